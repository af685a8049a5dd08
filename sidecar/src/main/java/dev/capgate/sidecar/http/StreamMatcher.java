package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.util.List;

/**
 * Finds any of a few byte patterns in a stream of chunks without copying or holding back bytes: a
 * {@link PatternAutomaton} whose state carries over from one chunk to the next, so an occurrence
 * split across chunks is found in the chunk that completes it. Used for placeholders in request
 * bodies (ASCII case ignored) and for secrets in responses (exact).
 *
 * <p>Runs through {@link ByteBuf#forEachByte}: no copy, and one access per chunk for Netty's leak
 * tracker; one table lookup per byte. The automaton is shared; a matcher is one int of state.
 */
final class StreamMatcher implements ByteProcessor {
  private final PatternAutomaton automaton;
  private int state;
  private int found = -1;

  /**
   * @param patterns the patterns, lower-case when {@code ignoreCase}
   */
  StreamMatcher(List<byte[]> patterns, boolean ignoreCase) {
    this(PatternAutomaton.of(patterns, ignoreCase));
  }

  StreamMatcher(PatternAutomaton automaton) {
    this.automaton = automaton;
  }

  /**
   * Scans the readable bytes of {@code chunk} (not moving its indexes), stopping at the first
   * completed occurrence.
   *
   * @return the index of the pattern an occurrence completed (in this chunk or an earlier one), or
   *     -1
   */
  int scan(ByteBuf chunk) {
    if (found < 0 && chunk.isReadable()) {
      chunk.forEachByte(this);
    }
    return found;
  }

  /** The longest end of what was scanned that is the beginning of a pattern (0: none). */
  int partial() {
    return automaton.depth(state);
  }

  /** Forgets everything scanned. */
  void reset() {
    found = -1;
    state = 0;
  }

  @Override
  public boolean process(byte value) {
    int s = automaton.step(state, value);
    int p = automaton.output(s);
    if (p >= 0) {
      found = p;
      state = 0;
      return false;
    }
    state = s;
    return true;
  }
}
