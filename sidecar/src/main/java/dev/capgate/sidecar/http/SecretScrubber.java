package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Keeps credentials out of what the agent reads back (invariant 1): an upstream that echoes request
 * headers (httpbin-style, error pages, debug endpoints) would otherwise hand the agent the very
 * secret it must not possess. It masks every form of every secret ({@link SecretForms}: the value,
 * percent-encoded, JSON-escaped, base64) in the status line's reason phrase, in header names and
 * values, in trailers and in the body.
 *
 * <p>Each occurrence is overwritten by as many {@code *}: the body keeps its length, so a
 * Content-Length stays right and bodies still stream. Occurrences split across chunks are caught by
 * holding back the end of a chunk only when it is the beginning of a form (at most {@code longest
 * form - 1} bytes) until the next chunk shows whether it goes on: a chunk that ends in anything
 * else is sent at once, so server-sent events, long polls and WebSocket frames are not delayed. A
 * chunk with nothing to mask goes on uncopied (behind the held bytes, if any).
 *
 * <p>One per exchange (it carries the state of the stream); the compiled {@link ScrubPatterns} are
 * shared. Compressed bodies are decoded before they get here ({@link ResponseDecoding}).
 */
final class SecretScrubber {
  private static final byte MASK = '*';
  private static final byte[] NOTHING = new byte[0];

  private final ScrubPatterns patterns;
  private final StreamMatcher needles;
  private byte[] held = NOTHING;

  SecretScrubber(ScrubPatterns patterns) {
    this.patterns = patterns;
    this.needles = patterns.isEmpty() ? null : new StreamMatcher(patterns.needles);
  }

  /**
   * @param secrets the raw values and the rendered header values (and their tokens after the
   *     scheme)
   */
  SecretScrubber(List<String> secrets) {
    this(ScrubPatterns.of(secrets));
  }

  /**
   * The secrets to hide for one injected header: its value, the part after the scheme, the raw
   * value.
   */
  static List<String> secretsOf(String rawValue, String headerValue) {
    List<String> secrets = new ArrayList<>(3);
    secrets.add(rawValue);
    secrets.add(headerValue);
    int space = headerValue.indexOf(' ');
    if (space > 0) {
      secrets.add(headerValue.substring(space + 1)); // "Basic <base64>" → the base64 alone
    }
    return secrets;
  }

  boolean active() {
    return needles != null;
  }

  /**
   * Masks secrets in header names and values, in place (header text is the wire's bytes,
   * ISO-8859-1).
   */
  void scrub(HttpHeaders headers) {
    if (!active() || !anyHeaderHolds(headers)) {
      return;
    }
    List<Map.Entry<String, String>> entries = headers.entries();
    headers.clear();
    for (Map.Entry<String, String> e : entries) {
      // '*' is a token character: a masked name is still a valid header name.
      headers.add(scrub(e.getKey()), scrub(e.getValue()));
    }
  }

  /** {@code text} with every secret masked (the same instance when there is none). */
  String scrub(String text) {
    if (!active() || text == null || !holds(text)) {
      return text;
    }
    byte[] data = text.getBytes(StandardCharsets.ISO_8859_1);
    patterns.mask(data, MASK);
    return new String(data, StandardCharsets.ISO_8859_1);
  }

  private boolean anyHeaderHolds(HttpHeaders headers) {
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> e = it.next();
      if (holds(e.getKey()) || holds(e.getValue())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code text} (one char per wire byte) holds a secret; leaves the stream state alone.
   */
  private boolean holds(CharSequence text) {
    PatternAutomaton automaton = patterns.needles;
    int state = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      state = c > 0xff ? 0 : automaton.step(state, (byte) c);
      if (automaton.output(state) >= 0) {
        return true;
      }
    }
    return false;
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
    int size = chunk.readableBytes();
    if (needles.scan(chunk) < 0) {
      // The common case: nothing to mask. The matcher's state carries on; only a tail that may
      // begin a secret waits for the next chunk.
      int keep = last ? 0 : Math.min(needles.partial(), held.length + size);
      return emitUnmasked(chunk, size, keep);
    }
    byte[] data = new byte[held.length + size];
    System.arraycopy(held, 0, data, 0, held.length);
    chunk.getBytes(chunk.readerIndex(), data, held.length, size);
    chunk.release();
    patterns.mask(data, MASK);
    // Where the masked stream stands now: the held bytes were all that could still be part of a
    // secret.
    needles.reset();
    needles.scan(Unpooled.wrappedBuffer(data));
    int keep = last ? 0 : Math.min(needles.partial(), data.length);
    int emit = data.length - keep;
    held = keep == 0 ? NOTHING : java.util.Arrays.copyOfRange(data, emit, data.length);
    return emit == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(data, 0, emit);
  }

  /** {@code held + chunk} without its last {@code keep} bytes, which become the new held bytes. */
  private ByteBuf emitUnmasked(ByteBuf chunk, int size, int keep) {
    if (held.length == 0 && keep == 0) {
      return chunk;
    }
    if (keep <= size) {
      byte[] newHeld = keep == 0 ? NOTHING : new byte[keep];
      chunk.getBytes(chunk.readerIndex() + size - keep, newHeld);
      ByteBuf body = chunk.retainedSlice(chunk.readerIndex(), size - keep);
      chunk.release();
      ByteBuf out =
          held.length == 0 ? body : Unpooled.wrappedBuffer(Unpooled.wrappedBuffer(held), body);
      held = newHeld;
      return out;
    }
    // The chunk is shorter than what must wait: part of the old held bytes goes, the rest waits
    // with it.
    byte[] data = new byte[held.length + size];
    System.arraycopy(held, 0, data, 0, held.length);
    chunk.getBytes(chunk.readerIndex(), data, held.length, size);
    chunk.release();
    int emit = data.length - keep;
    held = java.util.Arrays.copyOfRange(data, emit, data.length);
    return emit == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(data, 0, emit);
  }
}
