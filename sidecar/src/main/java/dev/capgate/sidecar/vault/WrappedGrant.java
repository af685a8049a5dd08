package dev.capgate.sidecar.vault;

import static dev.capgate.api.identity.VaultTokenExchange.FIELD_ERROR;
import static dev.capgate.api.identity.VaultTokenExchange.FIELD_NAMESPACE;
import static dev.capgate.api.identity.VaultTokenExchange.FIELD_SESSION;
import static dev.capgate.api.identity.VaultTokenExchange.FIELD_WRAPPING_TOKEN;
import static dev.capgate.api.identity.VaultTokenExchange.FIELD_WRAP_TTL_SECONDS;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;

/**
 * The operator's answer to {@code POST /v1/vault-token}: a response-wrapped Vault token for one
 * session (notes/sidecar-contract.md). Errors become {@link VaultReadException}s in words: the
 * operator's {@code error} text (it names what did not match: pod, session, signer) is kept, since
 * it is what an admin needs; a body is never echoed otherwise. {@code toString()} hides the token.
 */
record WrappedGrant(String wrappingToken, Duration wrapTtl, String namespace, String session) {
  /** Longer {@code error} texts are cut: a log line, not a document. */
  static final int MAX_ERROR_LENGTH = 300;

  private static final ObjectMapper JSON = new ObjectMapper();

  WrappedGrant {
    Objects.requireNonNull(wrappingToken, "wrappingToken");
  }

  /**
   * @param status the operator's HTTP status
   * @param body its body, JSON or anything else
   * @throws VaultReadException for anything but a 200 with a usable wrapping token
   */
  static WrappedGrant parse(int status, String body) {
    JsonNode json = parseObject(body);
    if (status != 200) {
      String why = errorText(json);
      String said = why == null ? "" : ": " + why;
      throw new VaultReadException(
          switch (status) {
            case 401 ->
                "the operator did not accept the sidecar's identity token (HTTP 401)" + said;
            case 403 ->
                "the operator refused a Vault token for this pod's session (HTTP 403)" + said;
            case 503 -> "the operator cannot issue a Vault token now (HTTP 503)" + said;
            default ->
                "the operator answered HTTP " + status + " to the Vault token request" + said;
          });
    }
    String token = string(json, FIELD_WRAPPING_TOKEN);
    if (token == null || token.isEmpty() || !token.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
      throw new VaultReadException(
          "the operator's answer holds no wrapping token (field '" + FIELD_WRAPPING_TOKEN + "')");
    }
    JsonNode ttl = json.path(FIELD_WRAP_TTL_SECONDS);
    Duration wrapTtl = ttl.isNumber() ? Duration.ofSeconds(ttl.asLong()) : Duration.ZERO;
    return new WrappedGrant(
        token, wrapTtl, string(json, FIELD_NAMESPACE), string(json, FIELD_SESSION));
  }

  /**
   * The operator's {@code error} text, one line, printable, at most {@link #MAX_ERROR_LENGTH}
   * characters.
   */
  private static String errorText(JsonNode json) {
    String error = string(json, FIELD_ERROR);
    if (error == null || error.isBlank()) {
      return null;
    }
    // No control characters: the text goes into a log line and an HTTP reason, where a newline
    // could forge a second entry.
    String clean =
        error
            .codePoints()
            .map(c -> Character.isISOControl(c) ? ' ' : c)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
            .toString()
            .strip();
    return clean.length() <= MAX_ERROR_LENGTH
        ? clean
        : clean.substring(0, MAX_ERROR_LENGTH) + "...";
  }

  private static JsonNode parseObject(String body) {
    if (body == null || body.isBlank()) {
      return MissingNode.getInstance();
    }
    try {
      JsonNode value = JSON.readTree(body);
      return value != null && value.isObject() ? value : MissingNode.getInstance();
    } catch (IOException e) {
      // A load balancer's HTML page, say: the status tells enough. Not e's message: it quotes the
      // body.
      return MissingNode.getInstance();
    }
  }

  private static String string(JsonNode json, String name) {
    JsonNode value = json.path(name);
    return value.isTextual() ? value.textValue() : null;
  }

  @Override
  public String toString() {
    return "WrappedGrant[wrappingToken=redacted, wrapTtl="
        + wrapTtl
        + ", namespace="
        + namespace
        + ", session="
        + session
        + "]";
  }
}
