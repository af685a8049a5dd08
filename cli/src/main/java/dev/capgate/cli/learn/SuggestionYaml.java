package dev.capgate.cli.learn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * Writes {@link RuleSuggestions} as an AgentSession fragment ({@code spec.egress} entries) with
 * comments: what was seen, and what a person has to decide (credentials, rules that name a host
 * only). Strings are written as JSON strings, which YAML reads as double-quoted scalars.
 */
public final class SuggestionYaml {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SuggestionYaml() {}

  /**
   * @param source what was read, for the first comment line (session, pods, time range)
   */
  public static String render(RuleSuggestions suggestions, String source) {
    StringBuilder out = new StringBuilder();
    out.append("# ").append(source).append('\n');
    out.append("# ")
        .append(suggestions.wouldDeny())
        .append(" would-deny line(s) read; ")
        .append(suggestions.rules().size())
        .append(" rule(s) suggested. Review before applying: append under spec.egress (the")
        .append('\n')
        .append("# first matching rule decides). No rule names a credential: add `credential:`")
        .append(" where one is needed.\n");
    for (String s : suggestions.skipped()) {
      out.append("# not suggested (a rule is not the fix): ").append(oneLine(s)).append('\n');
    }
    if (suggestions.rules().isEmpty()) {
      out.append("# nothing to suggest: no would-deny request was for want of a rule\n");
      return out.toString();
    }
    out.append("spec:\n  egress:\n");
    for (RuleSuggestions.Rule r : suggestions.rules()) {
      out.append("    - name: ").append(r.name()).append('\n');
      if (r.methods().isEmpty()) {
        out.append("      # TLS to this host was spliced in learn mode (the pod CA signs only for")
            .append(" the session's\n")
            .append("      # hosts), so its methods and paths were not seen: this rule allows")
            .append(" any. Narrow it,\n")
            .append("      # or apply it and learn again to see them.\n");
      }
      out.append("      hosts: ").append(list(List.of(r.host()))).append('\n');
      if (!r.ports().isEmpty()) {
        out.append("      ports: ").append(r.ports()).append('\n');
      }
      if (!r.methods().isEmpty()) {
        out.append("      methods: ").append(list(r.methods())).append('\n');
      }
      if (!r.paths().isEmpty()) {
        out.append("      paths: ").append(list(r.paths())).append('\n');
      }
      out.append("      # seen ")
          .append(r.seen())
          .append(r.methods().isEmpty() ? " connection(s)" : " request(s)");
      if (r.example() != null) {
        out.append(", e.g. ").append(oneLine(r.example()));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String list(List<String> values) {
    StringBuilder out = new StringBuilder("[");
    for (int i = 0; i < values.size(); i++) {
      out.append(i == 0 ? "" : ", ").append(quote(values.get(i)));
    }
    return out.append(']').toString();
  }

  private static String quote(String value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Audit fields are the agent's doing: no line break may end the comment early. */
  private static String oneLine(String s) {
    return s.replaceAll("[\\r\\n\\u2028\\u2029\\u0085]", " ");
  }
}
