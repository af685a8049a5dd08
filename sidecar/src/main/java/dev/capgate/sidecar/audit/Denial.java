package dev.capgate.sidecar.audit;

import dev.capgate.common.json.JsonWriter;

/**
 * The JSON body of a 403 (or 400) answer to the agent: machine-readable, naming the rule and
 * request id.
 */
public final class Denial {
  private Denial() {}

  /**
   * {@code {"error":...,"host":...,"method":...,"path":...,"rule":...,"requestId":...}}, nulls as
   * JSON null.
   */
  public static String json(
      String error, String host, String method, String path, String rule, String requestId) {
    return json(error, host, method, path, rule, requestId, null);
  }

  /**
   * As above, plus {@code "detail"}: what the agent (or its operator) can do about it (left out
   * when null).
   */
  public static String json(
      String error,
      String host,
      String method,
      String path,
      String rule,
      String requestId,
      String detail) {
    StringBuilder out = new StringBuilder(256);
    new JsonWriter(out)
        .fieldOrNull("error", error)
        .fieldOrNull("host", host)
        .fieldOrNull("method", method)
        .fieldOrNull("path", path)
        .fieldOrNull("rule", rule)
        .fieldOrNull("requestId", requestId)
        .field("detail", detail)
        .end();
    return out.toString();
  }
}
