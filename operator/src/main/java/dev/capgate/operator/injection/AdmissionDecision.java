package dev.capgate.operator.injection;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * The answer to one admission request.
 *
 * @param allowed whether the pod may be stored
 * @param message why not (shown to whoever created the pod), or null
 * @param patch a JSON patch (RFC 6902) to apply, or null for none
 * @param warnings AdmissionResponse warnings (kubectl prints each as {@code Warning: ...}); empty
 *     for none
 * @param afterAnswer what to start once the answer has been sent (or could not be: it runs either
 *     way), or null; it must not block: it runs on the listener's event loop
 */
public record AdmissionDecision(
    boolean allowed, String message, JsonNode patch, List<String> warnings, Runnable afterAnswer) {

  public AdmissionDecision {
    warnings = warnings == null ? List.of() : List.copyOf(warnings);
  }

  public AdmissionDecision(boolean allowed, String message, JsonNode patch, List<String> warnings) {
    this(allowed, message, patch, warnings, null);
  }

  /**
   * The same decision, with {@code task} started after the answer: work the answer does not need
   * (the CA Secret's write) stays out of the API server's wait (issue 13).
   */
  public AdmissionDecision afterAnswer(Runnable task) {
    return new AdmissionDecision(allowed, message, patch, warnings, task);
  }

  public static AdmissionDecision allow() {
    return new AdmissionDecision(true, null, null, List.of());
  }

  public static AdmissionDecision allow(JsonNode patch) {
    return allow(patch, List.of());
  }

  public static AdmissionDecision allow(JsonNode patch, List<String> warnings) {
    return new AdmissionDecision(
        true, null, patch == null || patch.isEmpty() ? null : patch, warnings);
  }

  public static AdmissionDecision deny(String message) {
    return new AdmissionDecision(false, message, null, List.of());
  }
}
