package dev.capgate.sidecar.audit;

import dev.capgate.common.json.JsonWriter;

/**
 * The body of every error the sidecar answers the agent with: an RFC 9457 problem ({@code
 * application/problem+json}) with {@code type}, {@code title}, {@code status}, {@code detail} and
 * {@code instance} (the request id, a relative URI reference), followed by the fields the answers
 * had before, as extension members: {@code error}, {@code host}, {@code method}, {@code path},
 * {@code rule}, {@code requestId} (JSON null when unknown). Agents that read {@code error} or
 * {@code requestId} keep working.
 */
public final class Denial {
  /** The media type of {@link #json}'s bodies. */
  public static final String CONTENT_TYPE = "application/problem+json";

  private Denial() {}

  /**
   * @param error the stable token or the sentence the answers always had in {@code error}
   * @param detail what the agent (or its operator) can do about it; when null, {@code detail} is
   *     {@code error}
   */
  public static String json(
      Problem problem,
      String error,
      String host,
      String method,
      String path,
      String rule,
      String requestId,
      String detail) {
    StringBuilder out = new StringBuilder(384);
    new JsonWriter(out)
        .field("type", problem.type())
        .field("title", problem.title())
        .field("status", (long) problem.status())
        .field("detail", detail != null ? detail : error != null ? error : problem.title())
        .field("instance", requestId)
        .fieldOrNull("error", error)
        .fieldOrNull("host", host)
        .fieldOrNull("method", method)
        .fieldOrNull("path", path)
        .fieldOrNull("rule", rule)
        .fieldOrNull("requestId", requestId)
        .end();
    return out.toString();
  }

  /** As above, without advice: {@code detail} is {@code error}. */
  public static String json(
      Problem problem,
      String error,
      String host,
      String method,
      String path,
      String rule,
      String requestId) {
    return json(problem, error, host, method, path, rule, requestId, null);
  }
}
