package dev.capgate.api.v1alpha1;

/** One reason a session is invalid: the field, as the API server would name it, and why. */
public record Violation(String field, String message) {
  @Override
  public String toString() {
    return field + ": " + message;
  }
}
