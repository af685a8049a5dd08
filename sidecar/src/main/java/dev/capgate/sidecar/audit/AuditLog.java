package dev.capgate.sidecar.audit;

import dev.capgate.common.json.JsonWriter;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes one JSON line per {@link AuditEvent} to stdout (or a given stream), with the time it was
 * recorded in {@code ts}. {@link #record} runs on event loops, so it only takes the time and
 * enqueues the (immutable) event; one writer thread formats the lines and does the blocking writes.
 * If the stream stalls long enough to fill the queue, events are counted rather than blocking
 * traffic, and the count is written as an {@code audit-dropped} line once the stream moves again.
 *
 * <p>Hot path (sidecar/README.md, "Hot path"): formatting on the event loop and the batch's String
 * and byte[] copies were about a seventh of the sidecar's allocation under keep-alive load. The
 * writer now formats a batch into one reused builder and encodes it through one reused writer.
 */
public final class AuditLog implements AutoCloseable {
  static final int CAPACITY = 65_536;

  /** Formatted text written out at a time (a few dozen lines). */
  private static final int TEXT_BUFFER = 16 * 1024;

  /** An event and the time it was recorded; formatted by the writer thread. */
  private record Pending(AuditEvent event, Instant ts) {}

  /** Tells the writer to stop; never a JSON line. */
  private static final Pending STOP = new Pending(null, null);

  private final Writer out;
  private final Clock clock;
  private final PodRef pod;
  private final BlockingQueue<Pending> lines = new LinkedBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();

  /** The writer thread's copy buffer. */
  private final char[] chunk = new char[8192];

  private final Thread writer;
  private volatile boolean closed;

  /** Audit lines of {@code pod}'s sidecar to stdout. */
  public AuditLog(PodRef pod) {
    this(System.out, Clock.systemUTC(), pod);
  }

  public AuditLog(OutputStream out, Clock clock) {
    this(out, clock, PodRef.UNKNOWN);
  }

  public AuditLog(OutputStream out, Clock clock, PodRef pod) {
    this.pod = pod;
    // Encodes through its own small buffer: no byte[] copy of a whole batch.
    this.out = new OutputStreamWriter(out, StandardCharsets.UTF_8);
    this.clock = clock;
    this.writer = Thread.ofPlatform().daemon().name("capgate-audit").start(this::writeLoop);
  }

  /** Package-private: paths record through {@link AuditRecorder}, which also counts the event. */
  void record(AuditEvent e) {
    if (closed || !lines.offer(new Pending(e, clock.instant()))) {
      dropped.incrementAndGet();
    }
  }

  /** Writes what was recorded so far, then stops the writer. */
  @Override
  public void close() {
    closed = true;
    try {
      lines.put(STOP);
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The fields in the order they have always had (people grep for {@code "host":..,"rule":..}),
   * then those of issue 14 ({@code type}, {@code pod}, {@code protocol}, {@code destination},
   * {@code bytesOut}, {@code bytesIn}, {@code durationMs}, {@code traceparent}), {@code kind} last;
   * absent values are left out. docs/audit.schema.json is the contract.
   */
  static String line(AuditEvent e, Instant ts, PodRef pod) {
    // A request line is 400-600 characters: sized so that it is never copied to grow.
    StringBuilder out = new StringBuilder(768);
    appendLine(out, e, ts, pod);
    return out.toString();
  }

  static String line(AuditEvent e, Instant ts) {
    return line(e, ts, PodRef.UNKNOWN);
  }

  /** Appends {@link #line}'s text to {@code out}, without a newline. */
  private static void appendLine(StringBuilder out, AuditEvent e, Instant ts, PodRef pod) {
    SessionIdentity s = e.session();
    Flow flow = e.flow();
    JsonWriter json =
        new JsonWriter(out)
            .field("ts", ts.toString())
            .field("requestId", e.requestId())
            .field("session", s == null ? null : s.name())
            .field("namespace", s == null ? null : s.namespace())
            .field("user", s == null ? null : s.user())
            .field("agent", s == null ? null : s.agent())
            .field("decision", e.decision().label())
            .field("host", e.host())
            .field("method", e.method())
            .field("path", e.path())
            .field("rule", e.rule())
            .field("credential", e.credential())
            .field(
                "upstreamStatus",
                e.upstreamStatus() == null ? null : Long.valueOf(e.upstreamStatus()))
            .field("latencyMicros", e.latencyMicros())
            .field("reason", e.reason())
            .field("type", e.kind().type());
    if (pod.known()) {
      json.object("pod")
          .field("name", pod.name())
          .field("namespace", pod.namespace())
          .field("uid", pod.uid())
          .end();
    }
    json.field("protocol", flow.protocol());
    if (flow.destination() != null) {
      json.object("destination")
          .field("ip", ip(flow.destination()))
          .field("port", (long) flow.destination().getPort())
          .end();
    }
    if (flow.bytesOut() >= 0) {
      json.field("bytesOut", flow.bytesOut());
    }
    if (flow.bytesIn() >= 0) {
      json.field("bytesIn", flow.bytesIn());
    }
    if (e.kind() instanceof AuditKind.Request) {
      json.field("durationMs", e.latencyMicros() / 1000);
    }
    if (TraceParent.wellFormed(flow.traceparent())) {
      json.field("traceparent", TraceParent.known(flow.traceparent()));
    }
    json.field("kind", e.kind().label()).end();
  }

  private static String ip(java.net.InetSocketAddress address) {
    return address.getAddress() != null
        ? address.getAddress().getHostAddress()
        : address.getHostString();
  }

  private void writeLoop() {
    List<Pending> batch = new ArrayList<>();
    StringBuilder text = new StringBuilder(TEXT_BUFFER + 1024);
    while (true) {
      try {
        batch.add(lines.take());
      } catch (InterruptedException e) {
        return;
      }
      lines.drainTo(batch);
      boolean stop = batch.remove(STOP);
      write(batch, text);
      batch.clear();
      if (stop) {
        return;
      }
    }
  }

  /** Formats and writes the batch, a few dozen lines at a time, then flushes once. */
  private void write(List<Pending> batch, StringBuilder text) {
    text.setLength(0);
    try {
      for (Pending p : batch) {
        appendLine(text, p.event(), p.ts(), pod);
        text.append('\n');
        if (text.length() >= TEXT_BUFFER) {
          emit(text);
        }
      }
      long lost = dropped.getAndSet(0);
      if (lost > 0) {
        new JsonWriter(text)
            .field("ts", clock.instant().toString())
            .field("event", "audit-dropped")
            .field("count", lost)
            .end();
        text.append('\n');
      }
      emit(text);
      out.flush();
    } catch (IOException e) {
      // stdout is gone (the container is stopping): nothing else could carry the line either.
      dropped.addAndGet(batch.size());
    }
  }

  /**
   * Writes {@code text} and empties it. Writer.append(CharSequence) would copy it into a String
   * first: chunks of chars instead.
   */
  private void emit(StringBuilder text) throws IOException {
    for (int from = 0; from < text.length(); from += chunk.length) {
      int to = Math.min(text.length(), from + chunk.length);
      text.getChars(from, to, chunk, 0);
      out.write(chunk, 0, to - from);
    }
    text.setLength(0);
  }
}
