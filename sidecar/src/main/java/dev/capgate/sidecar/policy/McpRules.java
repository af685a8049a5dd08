package dev.capgate.sidecar.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.api.v1alpha1.ArgumentMatch;
import dev.capgate.api.v1alpha1.McpTool;
import dev.capgate.api.v1alpha1.McpTools;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A rule's {@code mcp} block, compiled: which tools a {@code tools/call} may name and what its
 * {@code params.arguments} must satisfy. Reasons name the rule, the tool and the argument's
 * pointer, never an argument's value (it may be a secret the agent was tricked into sending).
 */
public final class McpRules {
  private final String rule;
  private final PathPattern endpoint;
  private final Map<String, ArgumentCondition[]> tools = new LinkedHashMap<>();
  private final int maxResultBytes;

  /**
   * @throws IllegalArgumentException naming what cannot be compiled
   */
  public McpRules(String rule, McpTools mcp) {
    this.rule = rule;
    this.endpoint = mcp.endpoint() == null ? null : PathPattern.compile(mcp.endpoint());
    for (McpTool tool : mcp.tools()) {
      List<ArgumentMatch> args = tool.arguments() == null ? List.of() : tool.arguments();
      tools.put(
          tool.name(),
          args.stream().map(ArgumentCondition::compile).toArray(ArgumentCondition[]::new));
    }
    this.maxResultBytes = mcp.maxResultBytesOrDefault();
  }

  public String rule() {
    return rule;
  }

  /** Whether a POST to this normalized path is an MCP message this rule judges. */
  public boolean judges(String path) {
    return endpoint == null || endpoint.matches(path);
  }

  public boolean allowsTool(String name) {
    return tools.containsKey(name);
  }

  public Set<String> tools() {
    return tools.keySet();
  }

  /** The largest answer to tools/call or tools/list passed on, in bytes. */
  public int maxResultBytes() {
    return maxResultBytes;
  }

  /**
   * Why {@code tools/call} of {@code tool} with {@code arguments} is refused, or null when it is
   * allowed.
   *
   * @param arguments {@code params.arguments}, or null when the call has none
   */
  public String refusal(String tool, JsonNode arguments) {
    ArgumentCondition[] conditions = tool == null ? null : tools.get(tool);
    if (conditions == null) {
      return "tool '" + tool + "' is not allowed by rule '" + rule + "'";
    }
    for (ArgumentCondition condition : conditions) {
      if (!condition.holds(arguments)) {
        return "tool '"
            + tool
            + "': argument "
            + condition.pointer
            + " does not satisfy rule '"
            + rule
            + "' ("
            + condition.describe()
            + ")";
      }
    }
    return null;
  }

  /** One compiled {@link ArgumentMatch}. */
  private static final class ArgumentCondition {
    private final String pointer;
    private final String kind;
    private final Set<String> values;
    private final Pattern pattern;

    private ArgumentCondition(String pointer, String kind, Set<String> values, Pattern pattern) {
      this.pointer = pointer;
      this.kind = kind;
      this.values = values;
      this.pattern = pattern;
    }

    static ArgumentCondition compile(ArgumentMatch m) {
      if (m.pointer() == null || !m.pointer().startsWith("/")) {
        throw new IllegalArgumentException("'" + m.pointer() + "' is not a JSON pointer");
      }
      if (m.equalTo() != null) {
        return new ArgumentCondition(m.pointer(), "equals", Set.of(m.equalTo()), null);
      }
      if (m.oneOf() != null) {
        return new ArgumentCondition(m.pointer(), "oneOf", Set.copyOf(m.oneOf()), null);
      }
      if (m.glob() != null) {
        return new ArgumentCondition(m.pointer(), "glob", null, Pattern.compile(glob(m.glob())));
      }
      if (m.regex() != null) {
        return new ArgumentCondition(m.pointer(), "regex", null, Pattern.compile(m.regex()));
      }
      throw new IllegalArgumentException(
          "condition on " + m.pointer() + " has none of equals, oneOf, glob, regex");
    }

    /** The glob as a regular expression: * any run, ? one character, the rest quoted. */
    static String glob(String glob) {
      StringBuilder out = new StringBuilder();
      StringBuilder literal = new StringBuilder();
      for (char c : glob.toCharArray()) {
        if (c == '*' || c == '?') {
          if (!literal.isEmpty()) {
            out.append(Pattern.quote(literal.toString()));
            literal.setLength(0);
          }
          out.append(c == '*' ? "(?s:.*)" : "(?s:.)");
        } else {
          literal.append(c);
        }
      }
      if (!literal.isEmpty()) {
        out.append(Pattern.quote(literal.toString()));
      }
      return out.toString();
    }

    boolean holds(JsonNode arguments) {
      if (arguments == null) {
        return false;
      }
      JsonNode value = arguments.at(pointer);
      if (!value.isValueNode() || value.isNull() || value.isMissingNode()) {
        return false; // missing, an object, an array or null: no text to compare
      }
      String text = value.asText();
      return values != null ? values.contains(text) : pattern.matcher(text).matches();
    }

    /** The condition's kind, for the reason; the expected values are the session's, not secret. */
    String describe() {
      return switch (kind) {
        case "equals" -> "must equal the value the rule names";
        case "oneOf" -> "must be one of the values the rule names";
        case "glob" -> "must match the rule's glob";
        default -> "must match the rule's regex";
      };
    }
  }
}
