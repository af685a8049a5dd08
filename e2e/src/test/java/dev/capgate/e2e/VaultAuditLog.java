package dev.capgate.e2e;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * OpenBao's file audit device of the stack ({@code openbao-audit.log} in the stack's log directory,
 * see e2e/stack/stack-up.sh): what Vault itself answered, read from an offset on. Tokens and secret
 * values are HMAC'd there by Vault; paths, errors, policies and auth metadata are plain.
 */
final class VaultAuditLog {
  private final Path file;

  private VaultAuditLog(Path file) {
    this.file = file;
  }

  static VaultAuditLog ofStack(Stack stack) {
    Path file =
        stack.logDirs().stream()
            .map(d -> d.resolve("openbao-audit.log"))
            .filter(Files::isReadable)
            .findFirst()
            .orElseThrow(
                () ->
                    new AssertionError(
                        "no openbao-audit.log in the stack's log directories "
                            + stack.logDirs()
                            + " (e2e/stack/stack-up.sh writes it): Vault's own answers cannot be shown"));
    return new VaultAuditLog(file);
  }

  long end() {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Response entries written after {@code offset} for the request path {@code path}. */
  List<JsonObject> responsesSince(long offset, String path) {
    List<JsonObject> found = new ArrayList<>();
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      in.seek(offset);
      byte[] rest = new byte[(int) (in.length() - offset)];
      in.readFully(rest);
      for (String line : new String(rest, StandardCharsets.UTF_8).split("\n")) {
        try {
          JsonObject entry = new JsonObject(line);
          JsonObject request = entry.getJsonObject("request", new JsonObject());
          if ("response".equals(entry.getString("type"))
              && path.equals(request.getString("path"))) {
            found.add(entry);
          }
        } catch (DecodeException | ClassCastException ignored) {
          // a line being written while we read
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  /**
   * One entry as evidence: who asked (auth metadata and policies, no token) and what Vault said.
   */
  static String describe(JsonObject entry) {
    JsonObject auth = entry.getJsonObject("auth", new JsonObject());
    JsonObject request = entry.getJsonObject("request", new JsonObject());
    return "time="
        + entry.getString("time")
        + " "
        + request.getString("operation")
        + " "
        + request.getString("path")
        + " error="
        + entry.getString("error", "(none)")
        + " auth.display_name="
        + auth.getString("display_name")
        + " auth.policies="
        + auth.getValue("policies")
        + " auth.metadata="
        + auth.getValue("metadata");
  }
}
