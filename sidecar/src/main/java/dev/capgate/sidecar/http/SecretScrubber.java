package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps an injected credential out of what the agent reads back (invariant 1): an upstream that
 * echoes request headers (httpbin-style, error pages, debug endpoints) would otherwise hand the
 * agent the very secret it must not possess.
 *
 * <p>Each occurrence is overwritten by as many {@code *}: the body keeps its length, so a
 * Content-Length stays right and bodies still stream. Occurrences split across chunks are caught
 * by holding back the end of a chunk only when it is the beginning of a secret (at most
 * {@code longest - 1} bytes) until the next chunk shows whether it goes on: a chunk that ends in
 * anything else is sent whole and at once, so server-sent events, long polls and WebSocket frames
 * are not delayed. A chunk with nothing to mask is passed on as it is (no copy).
 * What it cannot see: compressed bodies (the sidecar asks for identity encoding when it injects)
 * and re-encoded forms of the value (escaped, percent-encoded).
 */
final class SecretScrubber {
  private static final byte MASK = '*';

  private static final byte[] NOTHING = new byte[0];

  private final List<byte[]> patterns;
  /**
   * Finds the patterns that contain no other pattern: enough to tell whether a chunk needs masking,
   * and which end of a chunk could be the beginning of a secret.
   */
  private final StreamMatcher needles;
  private final int holdBack;
  private byte[] held = NOTHING;

  /** @param secrets the raw value and the rendered header value (and its token after the scheme) */
  SecretScrubber(List<String> secrets) {
    Set<String> unique = new LinkedHashSet<>();
    for (String s : secrets) {
      if (s != null && s.length() >= 4) { // shorter strings would mask ordinary text everywhere
        unique.add(s);
      }
    }
    this.patterns = new ArrayList<>();
    int longest = 0;
    for (String s : unique) {
      byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
      patterns.add(bytes);
      longest = Math.max(longest, bytes.length);
    }
    this.holdBack = Math.max(0, longest - 1);
    List<byte[]> minimal = new ArrayList<>();
    for (byte[] p : patterns) {
      boolean containsAnother = false;
      for (byte[] q : patterns) {
        if (q != p && q.length < p.length && indexOf(p, q) >= 0) {
          containsAnother = true;
        }
      }
      if (!containsAnother) {
        minimal.add(p);
      }
    }
    this.needles = minimal.isEmpty() ? null : new StreamMatcher(minimal, false);
  }

  /** A scrubber for these secrets and {@code more} (a new one: call before the first chunk). */
  SecretScrubber with(List<String> more) {
    List<String> all = new ArrayList<>();
    for (byte[] p : patterns) {
      all.add(new String(p, StandardCharsets.UTF_8));
    }
    all.addAll(more);
    return new SecretScrubber(all);
  }

  /** The secrets to hide for one injected header: its value, the part after the scheme, the raw value. */
  static List<String> secretsOf(String rawValue, String headerValue) {
    List<String> secrets = new ArrayList<>();
    secrets.add(rawValue);
    secrets.add(headerValue);
    int space = headerValue.indexOf(' ');
    if (space > 0) {
      secrets.add(headerValue.substring(space + 1)); // "Basic <base64>" → the base64 alone
    }
    return secrets;
  }

  boolean active() {
    return !patterns.isEmpty();
  }

  /** Masks secrets in header values, in place. */
  void scrub(HttpHeaders headers) {
    if (!active()) {
      return;
    }
    List<Map.Entry<String, String>> entries = headers.entries();
    boolean changed = false;
    List<Map.Entry<String, String>> rewritten = new ArrayList<>(entries.size());
    for (Map.Entry<String, String> e : entries) {
      String masked = maskString(e.getValue());
      changed |= !masked.equals(e.getValue());
      rewritten.add(Map.entry(e.getKey(), masked));
    }
    if (changed) {
      headers.clear();
      rewritten.forEach(e -> headers.add(e.getKey(), e.getValue()));
    }
  }

  /**
   * Masks a body chunk; returns what may be sent now (possibly empty). The input is released.
   *
   * @param last true for the final chunk: nothing is held back then
   */
  ByteBuf scrub(ByteBuf chunk, boolean last) {
    if (!active()) {
      return chunk;
    }
    if (held.length == 0 && !containsNeedle(chunk)) {
      // The common case: nothing to mask, nothing pending. Only a tail that starts a secret waits.
      int keep = last ? 0 : Math.min(needles.partial(), chunk.readableBytes());
      if (keep == 0) {
        return chunk;
      }
      int emit = chunk.readableBytes() - keep;
      held = new byte[keep];
      chunk.getBytes(chunk.readerIndex() + emit, held);
      ByteBuf out = chunk.retainedSlice(chunk.readerIndex(), emit);
      chunk.release();
      return out;
    }
    byte[] data = new byte[held.length + chunk.readableBytes()];
    System.arraycopy(held, 0, data, 0, held.length);
    chunk.getBytes(chunk.readerIndex(), data, held.length, chunk.readableBytes());
    chunk.release();
    mask(data);
    int emit = last ? data.length : data.length - partialSecretAtEnd(data);
    held = emit == data.length ? NOTHING : java.util.Arrays.copyOfRange(data, emit, data.length);
    return emit == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(data, 0, emit);
  }

  /** Whether {@code chunk} holds a secret; leaves {@link #needles} knowing how the chunk ends. */
  private boolean containsNeedle(ByteBuf chunk) {
    needles.reset();
    return needles.scan(chunk) >= 0;
  }

  /** The length of the longest end of {@code data} that is the beginning of a secret (0 if none). */
  private int partialSecretAtEnd(byte[] data) {
    int best = 0;
    for (byte[] p : patterns) {
      for (int k = Math.min(p.length - 1, data.length); k > best; k--) {
        if (java.util.Arrays.equals(data, data.length - k, data.length, p, 0, k)) {
          best = k;
          break;
        }
      }
    }
    return best;
  }

  private static int indexOf(byte[] data, byte[] p) {
    for (int i = 0; i + p.length <= data.length; i++) {
      if (regionMatches(data, i, p)) {
        return i;
      }
    }
    return -1;
  }

  private String maskString(String value) {
    byte[] data = value.getBytes(StandardCharsets.UTF_8);
    return mask(data) ? new String(data, StandardCharsets.UTF_8) : value;
  }

  private boolean mask(byte[] data) {
    boolean found = false;
    for (byte[] p : patterns) {
      for (int i = 0; i + p.length <= data.length; i++) {
        if (regionMatches(data, i, p)) {
          java.util.Arrays.fill(data, i, i + p.length, MASK);
          found = true;
          i += p.length - 1;
        }
      }
    }
    return found;
  }

  private static boolean regionMatches(byte[] data, int at, byte[] p) {
    for (int j = 0; j < p.length; j++) {
      if (data[at + j] != p[j]) {
        return false;
      }
    }
    return true;
  }
}
