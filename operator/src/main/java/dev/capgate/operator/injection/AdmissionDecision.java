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
 */
public record AdmissionDecision(
    boolean allowed, String message, JsonNode patch, List<String> warnings) {

  public AdmissionDecision {
    warnings = warnings == null ? List.of() : List.copyOf(warnings);
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
