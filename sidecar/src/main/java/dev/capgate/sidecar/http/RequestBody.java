package dev.capgate.sidecar.http;

import dev.capgate.sidecar.credentials.InjectedHeader;
import dev.capgate.sidecar.credentials.PlaceholderLeak;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's request body of one {@link Exchange} on its way upstream, chunk by chunk: scanned for
 * placeholders where the rule asks for it ({@link PlaceholderGuard}), held while the upstream link
 * is not there yet, forwarded with the trailer fields that may not follow a body dropped ({@link
 * RequestTrailers}), or read and dropped when the exchange answered locally or ended. Where each
 * chunk goes is the exchange's to say; this class knows what was done with the body.
 */
final class RequestBody {
  private final Exchange exchange;
  private final PlaceholderGuard placeholders;

  /** Scans the body for placeholders (null: the rule allows them there, or nothing to find). */
  private StreamMatcher scanner;

  /**
   * Reads a git push's ref update commands, or an MCP message, before anything goes upstream (null:
   * the body is not judged).
   */
  private BodyGate gate;

  /**
   * Chunks that arrived before the upstream link, sent right behind the head (null until the first:
   * a request on a kept-alive link usually has none).
   */
  private List<HttpContent> held;

  /** The agent sent the whole request (the last body chunk, or the head of a request without). */
  private boolean complete;

  /** Body bytes written upstream, for the audit line's {@code bytesOut}. */
  private long forwarded;

  /** The headers the rule injects: never accepted from the agent, in headers or trailers. */
  private List<InjectedHeader> injectedHeaders = List.of();

  /** Names of request trailer fields that were not forwarded (for the audit line). */
  private List<String> droppedTrailers;

  RequestBody(Exchange exchange, PlaceholderGuard placeholders) {
    this.exchange = exchange;
    this.placeholders = placeholders;
  }

  /** The body is scanned for placeholders from now on. */
  void scanForPlaceholders() {
    scanner = placeholders.newBodyScanner();
  }

  /** The body is judged by {@code gate} before the exchange connects upstream. */
  void gate(BodyGate gate) {
    this.gate = gate;
  }

  /** Still reading for the gate's verdict: body must be read though nothing goes upstream. */
  boolean gating() {
    return gate != null && gate.reading() && exchange.forwardsRequestBody();
  }

  /** Trailers naming one of these are dropped (set before the first chunk goes upstream). */
  void protect(List<InjectedHeader> injected) {
    injectedHeaders = injected;
  }

  long forwardedBytes() {
    return forwarded;
  }

  boolean complete() {
    return complete;
  }

  /**
   * A chunk from the agent. A placeholder found in it (or in the trailers) is reported to the
   * exchange before the chunk goes anywhere: that chunk, which completes the placeholder, is never
   * forwarded.
   */
  void onContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (scanner != null && exchange.forwardsRequestBody()) {
      int found = scanner.scan(content.content());
      PlaceholderLeak leak =
          found >= 0
              ? placeholders.bodyLeak(found)
              : last
                  ? placeholders.inspectTrailers(((LastHttpContent) content).trailingHeaders())
                  : null;
      if (leak != null) {
        exchange.placeholderLeak(leak); // the upstream request is cut
      }
    }
    if (gating()) {
      // A push gate copies its command section and holds a pack as slices of the chunks held here;
      // an MCP gate copies the message it judges.
      gate.feed(content.content());
      if (last) {
        gate.endOfBody();
      }
    }
    Channel upstream = exchange.upstreamChannel();
    if (!exchange.forwardsRequestBody()) {
      content.release(); // the body of a request we refused: read and dropped
    } else if (upstream == null) {
      if (held == null) {
        held = new ArrayList<>(2);
      }
      held.add(content);
    } else {
      // Flushed once per agent read burst (Exchange.flushUpstream), not per chunk: fewer syscalls
      // and TLS records.
      forwarded += content.content().readableBytes();
      upstream.write(withoutForbiddenTrailers(content));
      if (last) {
        upstream.flush();
      }
    }
    if (last) {
      complete = true;
      exchange.requestSent();
    }
    if (gate != null && gate.takeVerdict()) {
      exchange.bodyJudged();
    }
  }

  /** The upstream link is there: what arrived before it follows the head (not flushed here). */
  void sendHeld(Channel upstream) {
    if (held == null) {
      return;
    }
    for (HttpContent content : held) {
      forwarded += content.content().readableBytes();
      upstream.write(withoutForbiddenTrailers(content));
    }
    held = null;
  }

  /** The body will not go upstream: what is held is dropped. */
  void releaseHeld() {
    if (gate != null) {
      gate.release(); // the push's pack, if it was being read
    }
    if (held == null) {
      return;
    }
    for (HttpContent content : held) {
      content.release();
    }
    held = null;
  }

  /** The last chunk of the request body without the trailer fields that may not follow a body. */
  private HttpContent withoutForbiddenTrailers(HttpContent content) {
    if (!(content instanceof LastHttpContent last) || last.trailingHeaders().isEmpty()) {
      return content;
    }
    List<String> dropped = droppedTrailers == null ? new ArrayList<>(1) : droppedTrailers;
    HttpHeaders kept = RequestTrailers.filter(last.trailingHeaders(), injectedHeaders, dropped);
    if (kept == last.trailingHeaders()) {
      return content;
    }
    droppedTrailers = dropped;
    exchange.note("request-trailer-dropped: " + String.join(",", dropped));
    LastHttpContent out = new DefaultLastHttpContent(last.content().retain(), kept);
    last.release();
    return out;
  }
}
