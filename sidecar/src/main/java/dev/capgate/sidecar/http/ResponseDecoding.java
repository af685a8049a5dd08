package dev.capgate.sidecar.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.JdkZlibDecoder;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Locale;

/**
 * Undoes a response's {@code Content-Encoding} so that the scrubber can read the body (issue 11):
 * the sidecar asks for {@code Accept-Encoding: identity} wherever it scrubs, but an upstream may
 * compress anyway, and a compressed echo of a credential is invisible to byte matching.
 *
 * <p>gzip and deflate are decoded with Netty's zlib decoder; anything else (br, zstd, compress, a
 * chain of codings) cannot be scanned and is refused by the caller with a 502 rather than passed
 * on.
 *
 * <p>Bounded memory: compressed input is decoded a slice at a time ({@link #SLICE} bytes, which
 * inflate to at most about a MiB), so the caller can stop between slices while the agent is not
 * writable and go on when it is, as it does for ordinary bodies (a small gzip bomb stays small).
 */
final class ResponseDecoding {
  /**
   * Compressed bytes decoded in one step: deflate's 1032:1 worst case keeps one step near 1 MiB.
   */
  static final int SLICE = 1024;

  /** The response's coding cannot be scanned by the sidecar. */
  static final class Unscannable extends Exception {
    Unscannable(String coding) {
      super(coding, null, false, false);
    }
  }

  private final EmbeddedChannel inflater;
  private final ArrayDeque<ByteBuf> input = new ArrayDeque<>(2);
  private boolean failed;

  private ResponseDecoding(ZlibWrapper wrapper) {
    this.inflater = new EmbeddedChannel(new JdkZlibDecoder(wrapper, 0));
  }

  /**
   * @param contentEncodings the response's Content-Encoding header lines
   * @return the decoder for that coding, or null when the body is not encoded (absent, identity)
   * @throws Unscannable naming the coding when it is anything but gzip or deflate (or several)
   */
  static ResponseDecoding forCodings(List<String> contentEncodings) throws Unscannable {
    String coding = null;
    for (String line : contentEncodings) {
      for (String token : line.split(",")) {
        String t = token.strip().toLowerCase(Locale.ROOT);
        if (t.isEmpty() || t.equals("identity")) {
          continue;
        }
        if (coding != null) {
          throw new Unscannable(String.join(", ", contentEncodings)); // a chain of codings
        }
        coding = t;
      }
    }
    if (coding == null) {
      return null;
    }
    return switch (coding) {
      case "gzip", "x-gzip" -> new ResponseDecoding(ZlibWrapper.GZIP);
      case "deflate", "x-deflate" ->
          new ResponseDecoding(ZlibWrapper.ZLIB_OR_NONE); // servers send raw deflate too
      default -> throw new Unscannable(coding);
    };
  }

  /** Takes a compressed chunk (ownership passes here). */
  void offer(ByteBuf compressed) {
    if (compressed.isReadable()) {
      input.add(compressed);
    } else {
      compressed.release();
    }
  }

  /** Whether compressed bytes are waiting to be decoded. */
  boolean pending() {
    return !input.isEmpty();
  }

  /**
   * Decodes at most {@link #SLICE} compressed bytes.
   *
   * @return the decoded bytes (possibly empty), owned by the caller
   * @throws io.netty.handler.codec.DecoderException when the body is not valid for its coding
   */
  ByteBuf decodeSlice() {
    ByteBuf head = input.peek();
    if (head == null) {
      return Unpooled.EMPTY_BUFFER;
    }
    int n = Math.min(SLICE, head.readableBytes());
    ByteBuf slice = head.readRetainedSlice(n);
    if (!head.isReadable()) {
      input.poll().release();
    }
    try {
      inflater.writeInbound(slice);
      inflater.checkException();
    } catch (RuntimeException e) {
      failed = true;
      throw e;
    }
    ByteBuf first = inflater.readInbound();
    if (first == null) {
      return Unpooled.EMPTY_BUFFER;
    }
    ByteBuf next = inflater.readInbound();
    if (next == null) {
      return first;
    }
    CompositeByteBuf all = Unpooled.compositeBuffer(Integer.MAX_VALUE);
    all.addComponent(true, first);
    do {
      all.addComponent(true, next);
    } while ((next = inflater.readInbound()) != null);
    return all;
  }

  /** Whether the coded stream ended properly (gzip: its trailer and checksum were read). */
  boolean complete() {
    return !failed && input.isEmpty() && ((JdkZlibDecoder) inflater.pipeline().first()).isClosed();
  }

  /** Releases what is left. */
  void close() {
    ByteBuf b;
    while ((b = input.poll()) != null) {
      b.release();
    }
    Object o;
    while ((o = inflater.readInbound()) != null) {
      ReferenceCountUtil.release(o);
    }
    inflater.finishAndReleaseAll();
  }
}
