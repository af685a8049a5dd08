package dev.capgate.cli.session;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.Violation;
import java.util.List;

/**
 * One AgentSession read from a file: its name and namespace as written, the spec (null when the
 * file's spec could not be read into the types at all), and what was wrong with its shape (unknown
 * fields, wrong types, a missing name) before any rule of the validator ran.
 *
 * @param index the document's position in the file, from 1
 */
public record SessionDocument(
    int index, String namespace, String name, AgentSessionSpec spec, List<Violation> shape) {
  public SessionDocument {
    shape = List.copyOf(shape);
  }

  /** How to name it in a message: {@code AgentSession NAME} or {@code document N}. */
  public String label() {
    return name != null ? "AgentSession " + name : "document " + index;
  }
}
