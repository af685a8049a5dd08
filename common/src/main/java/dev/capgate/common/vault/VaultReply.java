package dev.capgate.common.vault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.Locale;
import java.util.Objects;

/**
 * Vault's answer to one call: the status and the parsed JSON body, or no answer at all (status 0:
 * refused, reset, timed out, TLS not trusted). The body is for the caller to read fields from; it
 * never reaches {@link #toString()} or an exception message, since a body may hold a token, a
 * secret or an echo of the request.
 */
public final class VaultReply {
  private final int status;
  private final JsonNode body;
  private final String failure;

  VaultReply(int status, JsonNode body) {
    this.status = status;
    this.body = Objects.requireNonNull(body, "body");
    this.failure = null;
  }

  private VaultReply(String failure) {
    this.status = 0;
    this.body = MissingNode.getInstance();
    this.failure = failure;
  }

  /**
   * @param why what went wrong, in words that hold no secret (e.g. the JDK exception's class and
   *     message, which name a connection or TLS problem, never the request's headers)
   */
  public static VaultReply noAnswer(String why) {
    return new VaultReply(why == null || why.isBlank() ? "no reason given" : why);
  }

  /** The HTTP status; 0 when Vault did not answer. */
  public int status() {
    return status;
  }

  public boolean ok() {
    return status / 100 == 2;
  }

  public boolean answered() {
    return status != 0;
  }

  /** Why there was no answer, or null if there was one. */
  public String failure() {
    return failure;
  }

  /** The JSON body; a missing node when there was none or it was not JSON (an HTML error page). */
  public JsonNode body() {
    return body;
  }

  /** {@code body.data}, or a missing node. */
  public JsonNode data() {
    return body.path("data");
  }

  /** {@code body.auth}, or a missing node. */
  public JsonNode auth() {
    return body.path("auth");
  }

  /**
   * Whether one of Vault's {@code errors} texts contains {@code word} (case-insensitive): for
   * decisions such as "already gone" ({@code invalid lease}), never for printing.
   */
  public boolean errorsMention(String word) {
    String wanted = word.toLowerCase(Locale.ROOT);
    for (JsonNode error : body.path("errors")) {
      if (error.asText("").toLowerCase(Locale.ROOT).contains(wanted)) {
        return true;
      }
    }
    return false;
  }

  /**
   * This reply if it is a 2xx, else a {@link VaultCallException} with the status in words.
   *
   * @param what the call, e.g. "POST sys/mounts/kv-x": named in the message
   */
  public VaultReply orThrow(String what) {
    if (!ok()) {
      throw new VaultCallException(status, describe(what));
    }
    return this;
  }

  /** The status in words (and why there was no answer), never the body. */
  public String describe(String what) {
    String words = VaultStatus.describe(status, what);
    return failure == null ? words : words + ": " + failure;
  }

  @Override
  public String toString() {
    return failure == null
        ? "VaultReply[status=" + status + "]" // never the body: it may hold a secret
        : "VaultReply[no answer: " + failure + "]";
  }
}
