package dev.capgate.sidecar.audit;

import dev.capgate.testkit.JsonSchemas;
import java.util.List;

/** The published contract of audit lines, docs/audit.schema.json (JSON Schema draft 2020-12). */
public final class AuditSchema {
  private AuditSchema() {}

  /** What is wrong with {@code line} (one audit line), empty when it matches the schema. */
  public static List<String> violations(String line) {
    return JsonSchemas.violations(JsonSchemas.AUDIT, line);
  }
}
