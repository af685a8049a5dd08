package dev.capgate.sidecar.approval;

import dev.capgate.sidecar.kube.ApiClient;
import dev.capgate.sidecar.kube.ApiReply;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Approvals as {@code AgentApproval} objects, with the sidecar's own API access (the pod's service
 * account token, mounted in the sidecar container only; the session's sidecar Role lets it create
 * and read approvals, and write only {@code Expired}: the operator's approval webhook refuses
 * {@code Approved}/{@code Rejected} from it).
 *
 * <p>Each held request gets a virtual thread that creates the object (owned by the session, so it
 * goes with it), then reads it every {@code poll} until it is decided or the timeout passes, and
 * then writes {@code Expired}. Polling rather than a watch: at most {@code maxHeld} requests of a
 * pod wait at once, a person's decision takes seconds anyway, and a GET has no reconnection state
 * to get wrong. Threads, not the event loop: the {@link ApiClient} reads its token file on the
 * caller's thread.
 */
public final class KubeApprovals implements Approvals {
  private static final Logger LOG = Logger.getLogger(KubeApprovals.class.getName());
  public static final String SESSION_LABEL = "capgate.dev/session";
  public static final String POD_LABEL = "capgate.dev/pod";

  private final ApiClient api;
  private final String namespace;
  private final String session;
  private final String pod;
  private final Duration poll;
  private final Semaphore held;
  private final int maxHeld;
  private final Clock clock;
  private volatile String sessionUid;

  public KubeApprovals(
      ApiClient api,
      String namespace,
      String session,
      String pod,
      Duration poll,
      int maxHeld,
      Clock clock) {
    this.api = api;
    this.namespace = namespace;
    this.session = session;
    this.pod = pod;
    this.poll = poll;
    this.maxHeld = maxHeld;
    this.held = new Semaphore(maxHeld);
    this.clock = clock;
  }

  private String collection() {
    return "/apis/capgate.dev/v1alpha1/namespaces/" + namespace + "/agentapprovals";
  }

  @Override
  public CompletionStage<Outcome> ask(HeldRequest request) {
    if (!held.tryAcquire()) {
      return CompletableFuture.completedFuture(
          new Outcome.Unavailable(
              request.requestId(),
              maxHeld + " requests of this pod are already waiting for approval"));
    }
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("capgate-approval-" + request.requestId())
        .start(
            () -> {
              try {
                outcome.complete(hold(request));
              } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "approval " + request.requestId() + " failed", e);
                outcome.complete(
                    new Outcome.Unavailable(request.requestId(), e.getClass().getSimpleName()));
              } finally {
                held.release();
              }
            });
    return outcome;
  }

  private Outcome hold(HeldRequest request) {
    String id = request.requestId();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant deadline = clock.instant().plus(request.timeout());
    String uid = sessionUid();
    if (uid == null) {
      return new Outcome.Unavailable(id, "the session could not be read");
    }
    ApiReply created = await(api.create(collection(), object(request, now, uid).encode()));
    if (created == null || !created.ok()) {
      return new Outcome.Unavailable(
          id,
          "the AgentApproval could not be created (API server answered "
              + (created == null ? "nothing" : created.status())
              + ")");
    }
    LOG.info("request " + id + " held for approval (rule " + request.rule() + ")");
    while (clock.instant().isBefore(deadline)) {
      sleep(Duration.ofMillis(Math.min(poll.toMillis(), remaining(deadline))));
      Outcome decided = decision(id);
      if (decided != null) {
        return decided;
      }
    }
    return expire(id, "no decision within " + request.timeout().toSeconds() + " s");
  }

  /** Writes Expired; a person who decided just before wins (the webhook refuses a second one). */
  private Outcome expire(String id, String why) {
    ApiReply patched =
        await(
            api.mergePatch(
                collection() + "/" + id + "/status",
                new JsonObject()
                    .put("status", new JsonObject().put("decision", "Expired").put("message", why))
                    .encode()));
    if (patched == null || !patched.ok()) {
      Outcome decided = decision(id);
      if (decided != null) {
        return decided;
      }
    }
    return new Outcome.TimedOut(id);
  }

  /** The decision recorded on the approval; null while pending or unreadable. */
  private Outcome decision(String id) {
    ApiReply reply = await(api.get(collection() + "/" + id));
    if (reply == null || !reply.ok()) {
      return null;
    }
    JsonObject status = new JsonObject(reply.body()).getJsonObject("status");
    if (status == null) {
      return null;
    }
    String by = status.getString("decidedBy");
    return switch (String.valueOf(status.getString("decision"))) {
      case "Approved" -> new Outcome.Approved(id, by);
      case "Rejected" -> new Outcome.Rejected(id, by);
      case "Expired" -> new Outcome.TimedOut(id);
      default -> null;
    };
  }

  /**
   * At start: the approvals this pod left pending belong to requests whose connections died with
   * the previous sidecar process. Marked Expired, so nobody approves a request that is gone.
   *
   * @return how many were expired
   */
  public int expireStale() {
    String selector =
        URLEncoder.encode(
            SESSION_LABEL + "=" + session + "," + POD_LABEL + "=" + pod, StandardCharsets.UTF_8);
    ApiReply list = await(api.get(collection() + "?labelSelector=" + selector));
    if (list == null || !list.ok()) {
      return 0;
    }
    JsonArray items = new JsonObject(list.body()).getJsonArray("items", new JsonArray());
    int expired = 0;
    for (int i = 0; i < items.size(); i++) {
      JsonObject item = items.getJsonObject(i);
      JsonObject status = item.getJsonObject("status");
      if (status == null || status.getString("decision") == null) {
        String name = item.getJsonObject("metadata").getString("name");
        expire(name, "the sidecar holding the request restarted");
        expired++;
      }
    }
    if (expired > 0) {
      LOG.info(expired + " approval(s) left pending by a previous sidecar marked Expired");
    }
    return expired;
  }

  private JsonObject object(HeldRequest request, Instant now, String uid) {
    JsonObject spec =
        new JsonObject()
            .put("session", session)
            .put("rule", request.rule())
            .put("method", request.method())
            .put("host", request.host())
            .put("path", request.path())
            .put("requestId", request.requestId())
            .put("pod", pod)
            .put("requestedAt", now.toString())
            .put("expiresAt", now.plus(request.timeout()).toString());
    if (request.approvers() != null) {
      spec.put("approvers", new JsonArray(request.approvers()));
    }
    return new JsonObject()
        .put("apiVersion", "capgate.dev/v1alpha1")
        .put("kind", "AgentApproval")
        .put(
            "metadata",
            new JsonObject()
                .put("name", request.requestId())
                .put("namespace", namespace)
                .put("labels", new JsonObject().put(SESSION_LABEL, session).put(POD_LABEL, pod))
                .put(
                    "ownerReferences",
                    new JsonArray()
                        .add(
                            new JsonObject()
                                .put("apiVersion", "capgate.dev/v1alpha1")
                                .put("kind", "AgentSession")
                                .put("name", session)
                                .put("uid", uid))))
        .put("spec", spec);
  }

  private String sessionUid() {
    String uid = sessionUid;
    if (uid == null) {
      ApiReply reply =
          await(
              api.get(
                  "/apis/capgate.dev/v1alpha1/namespaces/"
                      + namespace
                      + "/agentsessions/"
                      + session));
      if (reply != null && reply.ok()) {
        uid = new JsonObject(reply.body()).getJsonObject("metadata").getString("uid");
        sessionUid = uid;
      }
    }
    return uid;
  }

  /** The reply, or null when the API server could not be reached (the caller fails closed). */
  private static ApiReply await(Future<ApiReply> call) {
    try {
      return call.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException | TimeoutException e) {
      LOG.log(Level.FINE, "API call failed", e);
      return null;
    }
  }

  private long remaining(Instant deadline) {
    return Math.max(1, Duration.between(clock.instant(), deadline).toMillis());
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
