package dev.capgate.sidecar.audit;

import dev.capgate.common.json.JsonWriter;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.io.IOException;
import java.io.OutputStream;
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
 * recorded in {@code ts}. {@link #record} runs on event loops, so it only formats and enqueues; one
 * writer thread does the blocking writes. If the stream stalls long enough to fill the queue,
 * events are counted rather than blocking traffic, and the count is written as an {@code
 * audit-dropped} line once the stream moves again.
 */
public final class AuditLog implements AutoCloseable {
  static final int CAPACITY = 65_536;

  /** Tells the writer to stop; never a JSON line. */
  private static final String STOP = "";

  private final OutputStream out;
  private final Clock clock;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>(CAPACITY);
  private final AtomicLong dropped = new AtomicLong();
  private final Thread writer;
  private volatile boolean closed;

  /** Audit lines to stdout. */
  public AuditLog() {
    this(System.out, Clock.systemUTC());
  }

  public AuditLog(OutputStream out, Clock clock) {
    this.out = out;
    this.clock = clock;
    this.writer = Thread.ofPlatform().daemon().name("capgate-audit").start(this::writeLoop);
  }

  /** Package-private: paths record through {@link AuditRecorder}, which also counts the event. */
  void record(AuditEvent e) {
    if (closed || !lines.offer(line(e, clock.instant()))) {
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
   * {@code kind} last; absent values are left out.
   */
  static String line(AuditEvent e, Instant ts) {
    // A request line is 300-450 characters: sized so that it is never copied to grow.
    StringBuilder out = new StringBuilder(512);
    SessionIdentity s = e.session();
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
            "upstreamStatus", e.upstreamStatus() == null ? null : Long.valueOf(e.upstreamStatus()))
        .field("latencyMicros", e.latencyMicros())
        .field("reason", e.reason())
        .field("kind", e.kind().label())
        .end();
    return out.toString();
  }

  private void writeLoop() {
    List<String> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(lines.take());
      } catch (InterruptedException e) {
        return;
      }
      lines.drainTo(batch);
      boolean stop = batch.remove(STOP);
      write(batch);
      batch.clear();
      if (stop) {
        return;
      }
    }
  }

  private void write(List<String> batch) {
    StringBuilder text = new StringBuilder();
    for (String line : batch) {
      text.append(line).append('\n');
    }
    long lost = dropped.getAndSet(0);
    if (lost > 0) {
      StringBuilder note = new StringBuilder();
      new JsonWriter(note)
          .field("ts", clock.instant().toString())
          .field("event", "audit-dropped")
          .field("count", lost)
          .end();
      text.append(note).append('\n');
    }
    try {
      out.write(text.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
    } catch (IOException e) {
      // stdout is gone (the container is stopping): nothing else could carry the line either.
      dropped.addAndGet(batch.size());
    }
  }
}
