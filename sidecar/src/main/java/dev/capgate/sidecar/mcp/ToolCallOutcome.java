package dev.capgate.sidecar.mcp;

/**
 * What became of one {@code tools/call}, for the metric: the tool's name only when the rule names
 * it (any other name is the agent's text, and would let it grow the series without bound).
 *
 * @param tool the tool, or {@link #OTHER_TOOL}
 * @param outcome allowed, tool-denied, arguments-denied, result-too-large
 */
public record ToolCallOutcome(String tool, String outcome) {
  public static final String OTHER_TOOL = "(other)";
}
