package dev.capgate.cli.session;

import com.fasterxml.jackson.databind.JsonMappingException.Reference;
import java.util.List;

/** Field paths as the validator and the API server write them: {@code .egress[0].hosts}. */
final class FieldPaths {
  private FieldPaths() {}

  static String of(List<Reference> path) {
    StringBuilder b = new StringBuilder();
    for (Reference r : path) {
      if (r.getFieldName() != null) {
        b.append('.').append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        b.append('[').append(r.getIndex()).append(']');
      }
    }
    return b.toString();
  }
}
