package dev.capgate.testkit;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON Schemas the project publishes in docs/ (draft 2020-12), read from the repository so that
 * the file people integrate against is the one the tests check: {@code audit.schema.json} (the
 * sidecar's audit lines), {@code log.schema.json} (both deployables' log lines).
 */
public final class JsonSchemas {
  public static final String AUDIT = "audit.schema.json";
  public static final String LOG = "log.schema.json";

  private static final Map<String, Schema> LOADED = new ConcurrentHashMap<>();

  private JsonSchemas() {}

  /** What is wrong with {@code json} against docs/{@code schemaFile}; empty when it conforms. */
  public static List<String> violations(String schemaFile, String json) {
    return LOADED
        .computeIfAbsent(schemaFile, JsonSchemas::load)
        .validate(json, InputFormat.JSON)
        .stream()
        .map(Error::toString)
        .toList();
  }

  private static Schema load(String schemaFile) {
    try {
      return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
          .getSchema(Files.readString(Repository.root().resolve("docs").resolve(schemaFile)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
