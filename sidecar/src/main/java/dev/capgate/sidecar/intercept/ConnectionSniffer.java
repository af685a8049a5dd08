package dev.capgate.sidecar.intercept;

import dev.capgate.sidecar.policy.ConnectionKind;
import dev.capgate.sidecar.tls.ClientHelloParser;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Peeks at the first bytes of an agent connection without consuming them: a TLS ClientHello (→
 * SNI), a plaintext HTTP request head (→ Host), or anything else. Gives up waiting after a timeout,
 * so protocols where the server speaks first are classified as "other".
 *
 * <p>The bytes stay here until {@link #handOver} replays them into whatever pipeline policy chose.
 */
public final class ConnectionSniffer extends ChannelInboundHandlerAdapter {
  /**
   * An HTTP request head larger than this is not worth waiting for (Netty's default limit is 8 KB).
   */
  static final int MAX_HTTP_HEAD = 16 * 1024;

  private final Duration timeout;
  private final BiConsumer<ChannelHandlerContext, Sniffed> onSniffed;
  private ByteBuf buffer;
  private ScheduledFuture<?> timer;
  private boolean done;

  public ConnectionSniffer(Duration timeout, BiConsumer<ChannelHandlerContext, Sniffed> onSniffed) {
    this.timeout = timeout;
    this.onSniffed = onSniffed;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    buffer = ctx.alloc().buffer(1024);
    timer =
        ctx.executor()
            .schedule(() -> finish(ctx, classify(true)), timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (done || !(msg instanceof ByteBuf bytes)) {
      // Bytes after the decision (autoRead is off, but a read may be in flight): keep order.
      if (done && msg instanceof ByteBuf bytes) {
        buffer.writeBytes(bytes);
      }
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      buffer.writeBytes(bytes);
    } finally {
      bytes.release();
    }
    Sniffed result = classify(false);
    if (result != null) {
      finish(ctx, result);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimer();
    release();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimer();
    release();
  }

  /**
   * Replays the buffered bytes to the handlers after this one and removes this handler. Call on the
   * channel's event loop once the pipeline behind is ready.
   */
  public static void handOver(ChannelHandlerContext ctx) {
    ConnectionSniffer self = (ConnectionSniffer) ctx.handler();
    ByteBuf bytes = self.buffer;
    self.buffer = null;
    if (bytes != null && bytes.isReadable()) {
      ctx.fireChannelRead(bytes);
      ctx.fireChannelReadComplete();
    } else if (bytes != null) {
      bytes.release();
    }
    if (ctx.pipeline().context(self) != null) {
      ctx.pipeline().remove(self);
    }
  }

  /**
   * The bytes seen so far as ISO-8859-1 text (at most an HTTP head's worth), for checks on a
   * refusal.
   */
  public static String bufferedText(ChannelHandlerContext ctx) {
    ByteBuf bytes = ((ConnectionSniffer) ctx.handler()).buffer;
    if (bytes == null || !bytes.isReadable()) {
      return "";
    }
    return bytes.toString(
        bytes.readerIndex(),
        Math.min(bytes.readableBytes(), MAX_HTTP_HEAD),
        StandardCharsets.ISO_8859_1);
  }

  private void finish(ChannelHandlerContext ctx, Sniffed result) {
    if (done || result == null) {
      return;
    }
    done = true;
    cancelTimer();
    // No more reads until policy decided and the next pipeline is in place.
    ctx.channel().config().setAutoRead(false);
    onSniffed.accept(ctx, result);
  }

  /** Null while more bytes could change the answer (and the timeout has not passed). */
  Sniffed classify(boolean timedOut) {
    if (buffer == null || !buffer.isReadable()) {
      return timedOut ? new Sniffed(ConnectionKind.OTHER, null, null, null) : null;
    }
    if (ClientHelloParser.looksLikeTls(buffer)) {
      ClientHelloParser.Result r = ClientHelloParser.parse(buffer);
      return switch (r) {
        case ClientHelloParser.Result.ClientHello hello ->
            new Sniffed(ConnectionKind.TLS, hello.serverName(), null, null);
        case ClientHelloParser.Result.NotTls notTls ->
            new Sniffed(ConnectionKind.OTHER, null, null, null);
        case ClientHelloParser.Result.NeedMore more ->
            timedOut ? new Sniffed(ConnectionKind.OTHER, null, null, null) : null;
      };
    }
    return classifyHttp(timedOut);
  }

  private Sniffed classifyHttp(boolean timedOut) {
    int n = buffer.readableBytes();
    int start = buffer.readerIndex();
    int i = 0;
    while (i < n && i < 20) {
      byte b = buffer.getByte(start + i);
      if (b == ' ' && i > 0) {
        break;
      }
      if (b < 'A' || b > 'Z') {
        return new Sniffed(ConnectionKind.OTHER, null, null, null);
      }
      i++;
    }
    if (i >= 20) {
      return new Sniffed(ConnectionKind.OTHER, null, null, null);
    }
    if (i == n) {
      return timedOut ? new Sniffed(ConnectionKind.OTHER, null, null, null) : null;
    }
    int headEnd = indexOf(buffer, "\r\n\r\n", Math.min(n, MAX_HTTP_HEAD));
    if (headEnd < 0 && !timedOut && n < MAX_HTTP_HEAD) {
      return null;
    }
    String head =
        buffer.toString(
            start, headEnd < 0 ? Math.min(n, MAX_HTTP_HEAD) : headEnd, StandardCharsets.ISO_8859_1);
    String[] lines = head.split("\r\n");
    String[] requestLine = lines[0].split(" ");
    String method = requestLine[0];
    String target = requestLine.length > 1 ? requestLine[1] : null;
    String host = null;
    if (headEnd >= 0) {
      for (int l = 1; l < lines.length; l++) {
        int colon = lines[l].indexOf(':');
        if (colon > 0 && lines[l].substring(0, colon).equalsIgnoreCase("host")) {
          host = hostWithoutPort(lines[l].substring(colon + 1).strip());
          break; // duplicates are the request normalizer's business: it rejects them
        }
      }
    }
    return new Sniffed(ConnectionKind.PLAINTEXT_HTTP, host, method, target);
  }

  static String hostWithoutPort(String host) {
    if (host.isEmpty()) {
      return null;
    }
    String h = host;
    if (h.startsWith("[")) {
      int close = h.indexOf(']');
      h = close > 0 ? h.substring(0, close + 1) : h;
    } else {
      int colon = h.lastIndexOf(':');
      if (colon >= 0) {
        h = h.substring(0, colon);
      }
    }
    h = h.toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h.isEmpty() ? null : h;
  }

  private static int indexOf(ByteBuf buf, String needle, int limit) {
    int start = buf.readerIndex();
    outer:
    for (int i = 0; i + needle.length() <= limit; i++) {
      for (int j = 0; j < needle.length(); j++) {
        if (buf.getByte(start + i + j) != needle.charAt(j)) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void release() {
    if (buffer != null) {
      buffer.release();
      buffer = null;
    }
  }
}
