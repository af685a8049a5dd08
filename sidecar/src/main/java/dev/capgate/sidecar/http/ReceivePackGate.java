package dev.capgate.sidecar.http;

import dev.capgate.sidecar.git.CommandSection;
import dev.capgate.sidecar.git.ReceivePackRefusal;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.PushRules;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Holds a git push ({@code POST .../git-receive-pack} allowed by a rule with {@code git}) until its
 * ref update commands are read, and judges them with the rule's {@link PushRules}: nothing goes
 * upstream (not even the connection is opened) before the verdict. The chunks read meanwhile are
 * held by {@link RequestBody}; the command section is bounded ({@link CommandSection#MAX_BYTES}),
 * the pack behind it is never read here.
 */
final class ReceivePackGate implements BodyGate {
  private final PushRules rules;
  private final CommandSection section = new CommandSection();
  private boolean reported;

  ReceivePackGate(PushRules rules) {
    this.rules = rules;
  }

  static final String REQUEST_TYPE = "application/x-git-receive-pack-request";

  /**
   * A push to a smart-HTTP git server, by its path or by its content type (so that a server that
   * routes pushes by type alone is covered too): the only request whose body this gate reads.
   */
  static boolean applies(NormalizedRequest request, String contentType) {
    return "POST".equals(request.method())
        && (request.path().endsWith("/git-receive-pack")
            || (contentType != null
                && contentType
                    .strip()
                    .toLowerCase(java.util.Locale.ROOT)
                    .startsWith(REQUEST_TYPE)));
  }

  @Override
  public void feed(ByteBuf chunk) {
    section.feed(chunk);
  }

  @Override
  public void endOfBody() {
    section.endOfBody();
  }

  /** Whether the body is still needed to decide. */
  @Override
  public boolean reading() {
    return section.result() == null;
  }

  /** True once, when the verdict is there and was not yet handed to the exchange. */
  @Override
  public boolean takeVerdict() {
    if (reported || section.result() == null) {
      return false;
    }
    reported = true;
    return true;
  }

  /** The verdict: null when the push may go upstream. */
  Verdict verdict() {
    return switch (section.result()) {
      case CommandSection.Malformed m -> new Verdict(null, m.reason(), null);
      case CommandSection.Commands push -> {
        PushRules.Refusal refusal = rules.judge(push.updates());
        if (refusal == null) {
          yield null;
        }
        String line = "capgate: push refused: " + refusal.ref() + ": " + refusal.reason();
        yield new Verdict(
            refusal.ref(),
            refusal.reason(),
            ReceivePackRefusal.reportable(push.capabilities())
                ? ReceivePackRefusal.body(push, refusal, line)
                : null);
      }
    };
  }

  /**
   * A refused push.
   *
   * @param ref the ref refused, or null when the commands could not be judged at all
   * @param reason why, for the audit line and the user
   * @param report the receive-pack result to answer with (200), or null for a 403
   */
  record Verdict(String ref, String reason, byte[] report) {
    String auditReason() {
      return "git-push-refused: " + (ref == null ? "" : ref + ": ") + reason;
    }

    FullHttpResponse response() {
      FullHttpResponse response =
          new DefaultFullHttpResponse(
              HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(report));
      response
          .headers()
          .set(HttpHeaderNames.CONTENT_TYPE, ReceivePackRefusal.CONTENT_TYPE)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, report.length)
          .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
      return response;
    }
  }
}
