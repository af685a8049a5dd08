package dev.capgate.operator.injection;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The answer to one admission request.
 *
 * @param allowed whether the pod may be stored
 * @param message why not (shown to whoever created the pod), or null
 * @param patch a JSON patch (RFC 6902) to apply, or null for none
 */
public record AdmissionDecision(boolean allowed, String message, JsonNode patch) {

  public static AdmissionDecision allow() {
    return new AdmissionDecision(true, null, null);
  }

  public static AdmissionDecision allow(JsonNode patch) {
    return new AdmissionDecision(true, null, patch == null || patch.isEmpty() ? null : patch);
  }

  public static AdmissionDecision deny(String message) {
    return new AdmissionDecision(false, message, null);
  }
}
