package dev.capgate.sidecar.audit;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The published contract of audit lines, docs/audit.schema.json (JSON Schema draft 2020-12), read
 * from the repository (the module's tests run in sidecar/), so that the file people integrate
 * against is the one checked.
 */
public final class AuditSchema {
  public static final Path FILE = Path.of("..", "docs", "audit.schema.json");

  private static final Schema SCHEMA = load();

  private AuditSchema() {}

  private static Schema load() {
    try {
      return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(Files.readString(FILE));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What is wrong with {@code line} (one audit line), empty when it matches the schema. */
  public static List<String> violations(String line) {
    return SCHEMA.validate(line, InputFormat.JSON).stream().map(Error::toString).toList();
  }
}
