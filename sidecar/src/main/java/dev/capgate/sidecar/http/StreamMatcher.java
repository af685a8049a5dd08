package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.ByteProcessor;
import java.util.List;

/**
 * Finds any of a few byte patterns in a stream of chunks without copying or holding back bytes:
 * one Knuth–Morris–Pratt automaton per pattern, whose state carries over from one chunk to the
 * next, so an occurrence split across chunks is found in the chunk that completes it. Used for
 * placeholders in request bodies (ASCII case ignored) and for secrets in responses (exact).
 *
 * <p>Runs through {@link ByteBuf#forEachByte}: no copy, and one access per chunk for Netty's leak
 * tracker. A byte that starts no pattern while no match is under way costs one comparison per pattern.
 */
final class StreamMatcher implements ByteProcessor {
  private final byte[][] patterns;
  private final int[][] fallback;
  private final int[] state;
  private final boolean ignoreCase;
  private int found = -1;

  /** @param patterns the patterns, lower-case when {@code ignoreCase} */
  StreamMatcher(List<byte[]> patterns, boolean ignoreCase) {
    int n = patterns.size();
    this.patterns = patterns.toArray(byte[][]::new);
    this.fallback = new int[n][];
    this.state = new int[n];
    this.ignoreCase = ignoreCase;
    for (int p = 0; p < n; p++) {
      fallback[p] = failureFunction(this.patterns[p]);
    }
  }

  /**
   * Scans the readable bytes of {@code chunk} (not moving its indexes), stopping at the first
   * completed occurrence.
   *
   * @return the index of the pattern an occurrence completed (in this chunk or an earlier one), or -1
   */
  int scan(ByteBuf chunk) {
    if (found < 0 && chunk.isReadable()) {
      chunk.forEachByte(this);
    }
    return found;
  }

  /** The longest end of what was scanned that is the beginning of a pattern (0: none). */
  int partial() {
    int longest = 0;
    for (int s : state) {
      longest = Math.max(longest, s);
    }
    return longest;
  }

  /** Forgets everything scanned. */
  void reset() {
    found = -1;
    java.util.Arrays.fill(state, 0);
  }

  @Override
  public boolean process(byte value) {
    byte b = ignoreCase && value >= 'A' && value <= 'Z' ? (byte) (value + 32) : value;
    for (int p = 0; p < patterns.length; p++) {
      byte[] pattern = patterns[p];
      int s = state[p];
      if (s == 0 && pattern[0] != b) {
        continue;
      }
      while (s > 0 && pattern[s] != b) {
        s = fallback[p][s - 1];
      }
      if (pattern[s] == b) {
        s++;
      }
      if (s == pattern.length) {
        found = p;
        state[p] = 0;
        return false;
      }
      state[p] = s;
    }
    return true;
  }

  private static int[] failureFunction(byte[] pattern) {
    int[] f = new int[pattern.length];
    int k = 0;
    for (int i = 1; i < pattern.length; i++) {
      while (k > 0 && pattern[k] != pattern[i]) {
        k = f[k - 1];
      }
      if (pattern[k] == pattern[i]) {
        k++;
      }
      f[i] = k;
    }
    return f;
  }
}
