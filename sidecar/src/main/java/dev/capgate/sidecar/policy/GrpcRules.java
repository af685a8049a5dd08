package dev.capgate.sidecar.policy;

import dev.capgate.api.v1alpha1.GrpcMethods;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * A rule's {@code grpc} block, compiled: which methods a gRPC call through the rule may invoke.
 * Exact names ({@code package.Service/Method}) and whole services ({@code package.Service/*}) are
 * hash lookups, so a call costs two lookups whatever the number of entries.
 */
public final class GrpcRules {
  /** The metric label for a method the rule does not name (an agent's names do not grow it). */
  public static final String OTHER_METHOD = "(other)";

  private final String rule;

  /** Method name as the rule writes it → itself (the metric label). */
  private final Map<String, String> methods = new HashMap<>();

  /** Services whose every method is allowed ({@code package.Service}). */
  private final Set<String> services = new HashSet<>();

  /**
   * @throws IllegalArgumentException naming an entry that is not a method or service pattern
   */
  public GrpcRules(String rule, GrpcMethods grpc) {
    this.rule = rule;
    for (String m : grpc.methods()) {
      GrpcMethod parsed = GrpcMethod.parse("/" + m.replace("*", "x"));
      if (parsed == null) {
        throw new IllegalArgumentException(
            "rule '" + rule + "': grpc method '" + m + "' is not package.Service/Method");
      }
      if (m.endsWith("/*")) {
        services.add(m.substring(0, m.length() - 2));
      } else {
        methods.put(m, m);
      }
    }
  }

  public String rule() {
    return rule;
  }

  /**
   * What this rule says about a call to {@code path} (the request's normalized path).
   *
   * @return the allowed method and the label to count it under, or a denial with its reason
   */
  public Judgement judge(String path) {
    GrpcMethod method = GrpcMethod.parse(path);
    if (method == null) {
      return new Judgement(
          false,
          null,
          OTHER_METHOD,
          "grpc-method-denied: path "
              + shortened(path)
              + " is not a gRPC method (/package.Service/Method) allowed by rule '"
              + rule
              + "'");
    }
    String name = method.fullName();
    String exact = methods.get(name);
    if (exact != null) {
      return new Judgement(true, name, exact, null);
    }
    if (services.contains(method.service())) {
      return new Judgement(true, name, method.service() + "/*", null);
    }
    return new Judgement(
        false,
        name,
        OTHER_METHOD,
        "grpc-method-denied: method '"
            + shortened(name)
            + "' is not allowed by rule '"
            + rule
            + "'");
  }

  private static String shortened(String s) {
    return s.length() > 128 ? s.substring(0, 128) + "..." : s;
  }

  /**
   * @param method {@code package.Service/Method} as called (null: the path is not one)
   * @param label what the metric counts it under: the rule's entry, or {@link #OTHER_METHOD}
   * @param reason why it is refused (null when allowed)
   */
  public record Judgement(boolean allowed, String method, String label, String reason) {}

  /** A gRPC method path, {@code /package.Service/Method}: the only shape gRPC sends. */
  public record GrpcMethod(String service, String method) {
    public String fullName() {
      return service + "/" + method;
    }

    /** The method {@code path} names, or null when it is not exactly {@code /service/method}. */
    public static GrpcMethod parse(String path) {
      if (path == null || path.length() < 4 || path.charAt(0) != '/') {
        return null;
      }
      int slash = path.indexOf('/', 1);
      if (slash < 0 || path.indexOf('/', slash + 1) >= 0) {
        return null;
      }
      String service = path.substring(1, slash);
      String method = path.substring(slash + 1);
      if (!isServiceName(service) || !isIdentifier(method, 0, method.length())) {
        return null;
      }
      return new GrpcMethod(service, method);
    }

    private static boolean isServiceName(String s) {
      int start = 0;
      while (true) {
        int dot = s.indexOf('.', start);
        int end = dot < 0 ? s.length() : dot;
        if (!isIdentifier(s, start, end)) {
          return false;
        }
        if (dot < 0) {
          return true;
        }
        start = dot + 1;
      }
    }

    /** A protobuf identifier: a letter or _, then letters, digits or _. */
    private static boolean isIdentifier(String s, int from, int to) {
      if (from >= to) {
        return false;
      }
      for (int i = from; i < to; i++) {
        char c = s.charAt(i);
        boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > from && c >= '0' && c <= '9')) {
          return false;
        }
      }
      return true;
    }
  }
}
