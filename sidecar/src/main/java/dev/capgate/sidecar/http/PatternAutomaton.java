package dev.capgate.sidecar.http;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An Aho–Corasick automaton over a few byte patterns, compiled once and shared (immutable,
 * thread-safe): one table lookup per byte whatever the number of patterns, which matters once the
 * response scrubber looks for every encoded form of every credential the sidecar holds.
 *
 * <p>Dense transition table over byte classes: the bytes that occur in no pattern share one class,
 * so the table is {@code states × (distinct pattern bytes + 1)}. With {@code ignoreCase}, ASCII
 * upper-case letters fall into the class of their lower-case letter (patterns are given
 * lower-case).
 */
final class PatternAutomaton {
  private final int[] byteClass = new int[256];
  private final int classes;

  /** {@code next[state * classes + class]}: the state after reading a byte of that class. */
  private final int[] next;

  /** Length of the pattern prefix each state stands for. */
  private final int[] depth;

  /** Index of a pattern that ends in this state (directly or as a suffix), else -1. */
  private final int[] output;

  private final int patternCount;

  PatternAutomaton(List<byte[]> patterns, boolean ignoreCase) {
    this.patternCount = patterns.size();
    int[] classOf = new int[256];
    Arrays.fill(classOf, -1);
    int n = 1; // class 0: bytes in no pattern
    int totalLength = 0;
    for (byte[] p : patterns) {
      if (p.length == 0) {
        throw new IllegalArgumentException("empty pattern");
      }
      totalLength += p.length;
      for (byte b : p) {
        if (classOf[b & 0xff] < 0) {
          classOf[b & 0xff] = n++;
        }
      }
    }
    for (int b = 0; b < 256; b++) {
      byteClass[b] = Math.max(classOf[b], 0);
    }
    if (ignoreCase) {
      for (int b = 'A'; b <= 'Z'; b++) {
        byteClass[b] = byteClass[b + 32];
      }
    }
    this.classes = n;

    // The trie: states numbered in creation order, -1 for "no edge" until the failure pass fills
    // it.
    int capacity = totalLength + 1;
    int[] table = new int[capacity * classes];
    Arrays.fill(table, -1);
    int[] depths = new int[capacity];
    int[] outputs = new int[capacity];
    Arrays.fill(outputs, -1);
    int states = 1;
    for (int i = 0; i < patterns.size(); i++) {
      int s = 0;
      for (byte b : patterns.get(i)) {
        int slot = s * classes + byteClass[b & 0xff];
        if (table[slot] < 0) {
          table[slot] = states;
          depths[states] = depths[s] + 1;
          states++;
        }
        s = table[slot];
      }
      if (outputs[s] < 0) {
        outputs[s] = i;
      }
    }

    // Breadth first: each state's failure state is complete before its children need it.
    int[] failure = new int[states];
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int c = 0; c < classes; c++) {
      int child = table[c];
      if (child < 0) {
        table[c] = 0;
      } else {
        failure[child] = 0;
        queue.add(child);
      }
    }
    while (!queue.isEmpty()) {
      int s = queue.poll();
      if (outputs[s] < 0) {
        outputs[s] = outputs[failure[s]];
      }
      for (int c = 0; c < classes; c++) {
        int slot = s * classes + c;
        int child = table[slot];
        int viaFailure = table[failure[s] * classes + c];
        if (child < 0) {
          table[slot] = viaFailure;
        } else {
          failure[child] = viaFailure;
          queue.add(child);
        }
      }
    }
    this.next = Arrays.copyOf(table, states * classes);
    this.depth = Arrays.copyOf(depths, states);
    this.output = Arrays.copyOf(outputs, states);
  }

  /** Convenience for a list built on the fly. */
  static PatternAutomaton of(List<byte[]> patterns, boolean ignoreCase) {
    return new PatternAutomaton(new ArrayList<>(patterns), ignoreCase);
  }

  int step(int state, byte b) {
    return next[state * classes + byteClass[b & 0xff]];
  }

  /** The pattern that ends in {@code state}, or -1. */
  int output(int state) {
    return output[state];
  }

  int depth(int state) {
    return depth[state];
  }

  int patternCount() {
    return patternCount;
  }
}
