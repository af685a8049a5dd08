package dev.capgate.sidecar.session;

import com.fasterxml.jackson.databind.JsonNode;
import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiReply;
import dev.capgate.sidecar.kube.WatchStream;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * Watches the one AgentSession of this pod and feeds the {@link SessionGate}.
 *
 * <ul>
 *   <li>List, then watch, of that single object: {@code fieldSelector=metadata.name=<name>}, which
 *       a Role with {@code resourceNames: [<name>]} and verbs get/list/watch allows, and nothing
 *       wider. The watch resumes from the last resourceVersion seen (bookmarks included); a 410
 *       Gone (that version is too old) lists again; a failure retries with back-off (250 ms to 5
 *       s). The server ends each watch after a few minutes and a connection silent for 90 s is
 *       dropped, so a half-open connection cannot pass for a quiet watch for long. Changes arrive
 *       within milliseconds. The object is read as JSON and checked by {@link SessionReader}, so a
 *       spec field this sidecar does not know denies instead of being dropped.
 *   <li>A heartbeat GET every third of the grace period (0.5 s to 10 s): contact is proven by
 *       answers, not by silence. It also re-reads the session after an outage and while the watch
 *       is down, and when the watch has missed a change for a whole heartbeat (the GET saw the same
 *       newer resourceVersion twice): then the GET decides and the watch starts over.
 * </ul>
 *
 * <p>Events are parsed and handled in order on one virtual thread ({@code capgate-session-watch}),
 * never on the event loop that received them.
 */
final class SessionWatcher implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SessionWatcher.class.getName());
  private static final Duration WATCH_IDLE = Duration.ofSeconds(90);
  private static final String GONE = "<none>";

  private final ApiClient api;
  private final String collection;
  private final String objectPath;
  private final String selector;
  private final SessionReader reader = new SessionReader();
  private final SessionGate gate;
  private final Duration heartbeatEvery;
  private final ScheduledExecutorService heartbeats =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-session-heartbeat").factory());
  private final AtomicBoolean heartbeatInFlight = new AtomicBoolean();

  /** Runs the list/watch state machine; everything below is confined to it. */
  private final ScheduledExecutorService watchThread =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofVirtual().name("capgate-session-watch").factory());

  private final Backoff backoff = new Backoff();
  private long attempt; // callbacks of an older list/watch are ignored
  private Runnable cancelWatch = () -> {};
  private String listRv; // where the watch resumes
  private volatile boolean watching;
  private volatile String seenRv; // resourceVersion of the object last delivered, or GONE
  private String heartbeatRvBefore; // confined to the heartbeat thread

  SessionWatcher(ApiClient api, String namespace, String name, SessionGate gate, Duration grace) {
    this.api = Objects.requireNonNull(api, "api");
    this.collection = SessionReader.AGENT_SESSIONS.formatted(namespace);
    this.objectPath = collection + "/" + name;
    this.selector = "fieldSelector=metadata.name%3D" + name;
    this.gate = gate;
    long third = grace.toMillis() / 3;
    this.heartbeatEvery = Duration.ofMillis(Math.clamp(third, 500, 10_000));
  }

  /** Starts watching; returns at once (the first list may still be under way or failing). */
  void start() {
    onWatchThread(this::list);
    heartbeats.scheduleWithFixedDelay(
        this::heartbeat, 0, heartbeatEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  // --- list and watch (on the watch thread) ---

  private void list() {
    long mine = restart();
    api.get(collection + "?" + selector)
        .onComplete(
            result ->
                onWatchThread(
                    () -> {
                      if (mine != attempt) {
                        return;
                      }
                      if (result.failed()) {
                        retry("list", String.valueOf(result.cause()), this::list);
                      } else if (!result.result().ok()) {
                        retry("list", "HTTP " + result.result().status(), this::list);
                      } else {
                        listed(mine, result.result());
                      }
                    }));
  }

  private void listed(long mine, ApiReply reply) {
    JsonNode list;
    try {
      list = SessionReader.JSON.readTree(reply.body().getBytes());
    } catch (IOException e) {
      retry("list", "unreadable answer", this::list);
      return;
    }
    JsonNode items = list.path("items");
    if (items.isEmpty()) {
      seenRv = GONE;
      gate.gone(); // the list found no such session
    } else {
      deliver(items.get(0));
    }
    listRv = list.path("metadata").path("resourceVersion").asText(null);
    watch(mine);
  }

  private void watch(long mine) {
    // Spread the servers' watch ends over time; each resumes where the last one stopped.
    int timeout = 240 + ThreadLocalRandom.current().nextInt(120);
    String path =
        collection
            + "?"
            + selector
            + "&watch=true&allowWatchBookmarks=true&timeoutSeconds="
            + timeout
            + (listRv == null ? "" : "&resourceVersion=" + listRv);
    cancelWatch =
        api.watch(
            path,
            WATCH_IDLE,
            new WatchStream() {
              @Override
              public void opened() {
                onWatchThread(
                    () -> {
                      if (mine == attempt) {
                        watching = true;
                        backoff.succeeded();
                      }
                    });
              }

              @Override
              public void event(Buffer line) {
                onWatchThread(
                    () -> {
                      if (mine == attempt) {
                        onEvent(line);
                      }
                    });
              }

              @Override
              public void closed(int status, Throwable error) {
                onWatchThread(
                    () -> {
                      if (mine == attempt) {
                        watchClosed(mine, status, error);
                      }
                    });
              }
            });
  }

  private void onEvent(Buffer line) {
    JsonNode event;
    try {
      event = SessionReader.JSON.readTree(line.getBytes());
    } catch (IOException e) {
      LOG.fine("unreadable watch event, listing again");
      list();
      return;
    }
    JsonNode object = event.path("object");
    String rv = object.path("metadata").path("resourceVersion").asText(null);
    switch (event.path("type").asText()) {
      case "ADDED", "MODIFIED" -> {
        listRv = rv;
        deliver(object);
      }
      case "DELETED" -> {
        listRv = rv;
        seenRv = GONE;
        gate.gone();
      }
      case "BOOKMARK" -> listRv = rv;
      case "ERROR" -> {
        // A Status object: 410 means our resourceVersion is too old; anything else, start over.
        int code = object.path("code").asInt();
        cancelWatch.run();
        if (code == 410) {
          list();
        } else {
          retry("watch", "HTTP " + code, this::list);
        }
      }
      default -> LOG.fine("ignoring watch event of type " + event.path("type").asText());
    }
  }

  private void watchClosed(long mine, int status, Throwable error) {
    watching = false;
    if (status == 410) {
      list();
    } else if (status != 0) {
      retry("watch", "HTTP " + status, this::list);
    } else if (error != null) {
      retry("watch", String.valueOf(error), () -> resumeWatch());
    } else {
      resumeWatch(); // the server's timeoutSeconds: carry on from the last version
    }
  }

  private void resumeWatch() {
    watch(restart());
  }

  private void deliver(JsonNode object) {
    seenRv = object.path("metadata").path("resourceVersion").asText(GONE);
    gate.observed(reader.read(object));
  }

  /** Abandons the current list/watch; returns the number of the next one. */
  private long restart() {
    watching = false;
    cancelWatch.run();
    cancelWatch = () -> {};
    return ++attempt;
  }

  private void retry(String what, String why, Runnable again) {
    watching = false;
    long wait = backoff.failed();
    LOG.fine(what + " of the AgentSession failed (" + why + "), retrying in " + wait + " ms");
    long mine = restart();
    try {
      watchThread.schedule(
          () -> {
            if (mine == attempt) {
              again.run();
            }
          },
          wait,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  private void onWatchThread(Runnable task) {
    try {
      watchThread.execute(task);
    } catch (RejectedExecutionException e) {
      // closed: late callbacks are dropped
    }
  }

  // --- heartbeat ---

  private void heartbeat() {
    if (!heartbeatInFlight.compareAndSet(false, true)) {
      return;
    }
    // On a thread of its own: a GET that hangs must not stop the schedule (the gate's outage check
    // does not wait for it either).
    Thread.ofVirtual()
        .name("capgate-session-get")
        .start(
            () -> {
              try {
                ApiReply reply =
                    api.get(objectPath)
                        .toCompletionStage()
                        .toCompletableFuture()
                        .get(10, TimeUnit.SECONDS);
                if (reply.status() == 404) {
                  gate.heartbeat(null, watchHealthy(GONE));
                } else if (reply.ok()) {
                  JsonNode object = SessionReader.JSON.readTree(reply.body().getBytes());
                  String rv = object.path("metadata").path("resourceVersion").asText(GONE);
                  gate.heartbeat(reader.read(object), watchHealthy(rv));
                } else {
                  gate.apiError("HTTP " + reply.status());
                }
              } catch (java.util.concurrent.ExecutionException e) {
                gate.apiError(String.valueOf(e.getCause()));
              } catch (java.util.concurrent.TimeoutException e) {
                gate.apiError("no answer within 10 s");
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } catch (IOException | RuntimeException e) {
                gate.apiError(e.getClass().getSimpleName());
              } finally {
                heartbeatInFlight.set(false);
              }
            });
  }

  /**
   * Whether the watch can be trusted to have delivered what this GET saw: it is connected, and it
   * has not missed a version the previous heartbeat saw already. If it has, the watch starts over.
   */
  private boolean watchHealthy(String rv) {
    String before = heartbeatRvBefore;
    heartbeatRvBefore = rv;
    if (!watching) {
      return false;
    }
    if (rv.equals(seenRv) || !rv.equals(before)) {
      return true; // delivered, or a change the watch may deliver any moment now
    }
    LOG.warning(
        "the AgentSession watch missed a change for a whole heartbeat: deciding from the GET and"
            + " watching again");
    onWatchThread(this::list);
    return false;
  }

  @Override
  public void close() {
    heartbeats.shutdownNow();
    onWatchThread(this::restart);
    watchThread.shutdown();
  }

  /** 250 ms doubling to 5 s, back to the start once a watch is open. */
  private static final class Backoff {
    private int failures;

    long failed() {
      failures = Math.min(failures + 1, 10);
      return Math.min(5_000, 250L << (failures - 1));
    }

    void succeeded() {
      failures = 0;
    }
  }
}
