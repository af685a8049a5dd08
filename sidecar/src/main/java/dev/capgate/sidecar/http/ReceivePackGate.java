package dev.capgate.sidecar.http;

import dev.capgate.sidecar.git.CommandSection;
import dev.capgate.sidecar.git.FastForward;
import dev.capgate.sidecar.git.MalformedPackException;
import dev.capgate.sidecar.git.PackCommits;
import dev.capgate.sidecar.git.PushPack;
import dev.capgate.sidecar.git.ReceivePackRefusal;
import dev.capgate.sidecar.policy.NormalizedRequest;
import dev.capgate.sidecar.policy.PushRules;
import dev.capgate.sidecar.policy.RefUpdate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.concurrent.Executor;

/**
 * Holds a git push ({@code POST .../git-receive-pack} allowed by a rule with {@code git}) until it
 * is judged with the rule's {@link PushRules}: nothing goes upstream (not even the connection is
 * opened) before the verdict. The chunks read meanwhile are held by {@link RequestBody}. First the
 * ref update commands (bounded: {@link CommandSection#MAX_BYTES}); then, when the rule refuses
 * force-pushes and the push moves a ref, the whole pack (bounded by the rule's {@code
 * maxPackBytes}, held as slices of those same chunks, not copied), whose commits must prove every
 * move a fast-forward ({@link FastForward}). Reading costs about 1 ms per 100 KiB of pack
 * (measured: 13.8 MB in 132 ms on a shared 2-core machine, PackCommitsTest), so only a small pack
 * is read on the event loop; a bigger one on a virtual thread, the verdict handed back to the loop.
 */
final class ReceivePackGate implements BodyGate {
  /**
   * Packs up to this size are read on the event loop (under a millisecond: a few commits); bigger
   * ones on a virtual thread.
   */
  static final int INLINE_PACK_BYTES = 64 * 1024;

  private final PushRules rules;
  private final CommandSection section = new CommandSection();
  private final Executor loop;
  private final Runnable onVerdict;

  /** Body bytes fed before the current chunk. */
  private long fed;

  private CommandSection.Commands commands;
  private List<RefUpdate> toProve = List.of();

  /** The body after the commands, while it is read (null: not needed, or read). */
  private PushPack pack;

  private boolean decided;
  private Verdict verdict;
  private String proof;
  private boolean reported;

  /**
   * @param loop the exchange's event loop: a verdict reached elsewhere is handed back there
   * @param onVerdict runs on the loop once a verdict reached off the loop is there
   */
  ReceivePackGate(PushRules rules, Executor loop, Runnable onVerdict) {
    this.rules = rules;
    this.loop = loop;
    this.onVerdict = onVerdict;
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
    if (decided) {
      return;
    }
    int readable = chunk.readableBytes();
    if (pack == null) {
      section.feed(chunk);
      if (section.result() != null) {
        commandsRead();
        if (pack != null) {
          pack.add(chunk, (int) (section.length() - fed));
        }
      }
    } else {
      pack.add(chunk, 0);
    }
    fed += readable;
    if (pack != null && pack.over()) {
      tooLarge();
    }
  }

  @Override
  public void endOfBody() {
    if (decided) {
      return;
    }
    if (pack == null) {
      section.endOfBody();
      commandsRead();
      if (pack == null) {
        return;
      }
    }
    ByteBuf bytes;
    try {
      bytes = pack.take();
    } catch (MalformedPackException e) {
      if (pack.over()) {
        tooLarge();
      } else {
        decide(unreadable(e));
      }
      pack = null;
      return;
    }
    pack = null;
    if (bytes.readableBytes() <= INLINE_PACK_BYTES) {
      decide(judgePack(bytes));
      return;
    }
    Thread.ofVirtual()
        .name("capgate-pack-check")
        .start(
            () -> {
              Verdict result = judgePack(bytes);
              loop.execute(
                  () -> {
                    decide(result);
                    if (takeVerdict()) {
                      onVerdict.run();
                    }
                  });
            });
  }

  /** The exchange ended: drop what is held (a pack being read off the loop releases its own). */
  @Override
  public void release() {
    if (pack != null) {
      pack.release();
      pack = null;
    }
  }

  /** Whether the body is still needed to decide. */
  @Override
  public boolean reading() {
    return !decided && (section.result() == null || pack != null);
  }

  /** True once, when the verdict is there and was not yet handed to the exchange. */
  @Override
  public boolean takeVerdict() {
    if (reported || !decided) {
      return false;
    }
    reported = true;
    return true;
  }

  /** The verdict: null when the push may go upstream. */
  Verdict verdict() {
    return verdict;
  }

  /** What the pack proved, for the audit line of an allowed push (null: nothing to prove). */
  String proof() {
    return proof;
  }

  private void commandsRead() {
    switch (section.result()) {
      case null -> {}
      case CommandSection.Malformed m -> decide(new Verdict(null, m.reason(), null));
      case CommandSection.Commands push -> {
        commands = push;
        PushRules.Refusal refusal = rules.judge(push.updates());
        if (refusal != null) {
          decide(refused(refusal));
          return;
        }
        toProve = rules.needingFastForward(push.updates());
        if (toProve.isEmpty()) {
          decide(null);
          return;
        }
        pack = new PushPack(rules.maxPackBytes(), push.capabilities().contains("push-options"));
      }
    }
  }

  /** Reads the pack (owned here: released) and proves every ref move a fast-forward. */
  private Verdict judgePack(ByteBuf bytes) {
    long started = System.nanoTime();
    int size = bytes.readableBytes();
    PackCommits commits;
    try {
      commits = PackCommits.read(bytes, toProve.getFirst().newId().length());
    } catch (MalformedPackException e) {
      return unreadable(e);
    } finally {
      bytes.release();
    }
    for (RefUpdate update : toProve) {
      String why = FastForward.unproven(commits, update);
      if (why != null) {
        return refused(rules.possibleForcePush(update, why));
      }
    }
    proof =
        "fast-forward proven for "
            + toProve.size()
            + (toProve.size() == 1 ? " ref" : " refs")
            + " (pack "
            + size
            + " bytes, "
            + commits.commits()
            + " commits, read in "
            + (System.nanoTime() - started) / 1_000_000
            + " ms)";
    return null;
  }

  private void tooLarge() {
    release();
    decide(
        refused(
            new PushRules.Refusal(
                toProve.getFirst().ref(),
                "push too large to check for force-push: pack over "
                    + rules.maxPackBytes()
                    + " bytes (maxPackBytes of rule '"
                    + rules.rule()
                    + "'); push fewer commits at a time or ask for forcePush")));
  }

  private Verdict unreadable(MalformedPackException e) {
    return refused(
        new PushRules.Refusal(
            toProve.getFirst().ref(),
            "cannot check for force-push: " + e.getMessage() + " (rule '" + rules.rule() + "')"));
  }

  private Verdict refused(PushRules.Refusal refusal) {
    String line = "capgate: push refused: " + refusal.ref() + ": " + refusal.reason();
    return new Verdict(
        refusal.ref(),
        refusal.reason(),
        ReceivePackRefusal.reportable(commands.capabilities())
            ? ReceivePackRefusal.body(commands, refusal, line)
            : null);
  }

  private void decide(Verdict result) {
    decided = true;
    verdict = result;
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
