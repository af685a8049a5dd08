package dev.capgate.operator.identity;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.Phase;
import dev.capgate.operator.injection.PodInjector;
import dev.capgate.operator.injection.SessionResolver;
import dev.capgate.operator.naming.PodMarkers;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Decides whether the caller of {@code /v1/vault-token} is the injected sidecar of a pod bound to a
 * live session, from its projected identity token alone:
 *
 * <ol>
 *   <li>TokenReview with the identity audience: the API server says the token is valid, for whom
 *       ({@code system:serviceaccount:<ns>:<sa>}), and — for a projected token — to which pod it is
 *       bound ({@code authentication.kubernetes.io/pod-name}, {@code .../pod-uid}); it refuses
 *       tokens of deleted pods. A token not bound to a pod (a TokenRequest without a pod, a legacy
 *       Secret token) is refused: the service account alone says nothing about which session.
 *   <li>The pod, read from the API server: same uid, not being deleted, opted in (label), marked
 *       injected by the webhook, its {@code capgate-proxy} is the configured sidecar image running
 *       {@code proxy}, no other container mounts the identity token, and it runs as the token's
 *       service account.
 *   <li>The session its label names, in its namespace: usable ({@link SessionResolver}: not being
 *       deleted, not expired, valid), Active, with {@code spec.vault}.
 * </ol>
 *
 * The pod cannot have been forged past the webhook: an opted-in pod always goes through it, and it
 * refuses pods claiming an injection that is not its own (admission hardening).
 */
public final class SidecarAttestation {
  static final String EXTRA_POD_NAME = "authentication.kubernetes.io/pod-name";
  static final String EXTRA_POD_UID = "authentication.kubernetes.io/pod-uid";
  private static final String SA_PREFIX = "system:serviceaccount:";

  private final KubernetesClient client;
  private final SessionResolver sessions;
  private final String audience;
  private final String sidecarImage;

  public SidecarAttestation(
      KubernetesClient client, SessionResolver sessions, String audience, String sidecarImage) {
    this.client = client;
    this.sessions = sessions;
    this.audience = audience;
    this.sidecarImage = sidecarImage;
  }

  /** The attested pod and its session. */
  public record Attested(Pod pod, AgentSession session, String serviceAccount) {
    public String namespace() {
      return pod.getMetadata().getNamespace();
    }
  }

  /**
   * Why not: {@code status} 401 (no valid identity token) or 403 (not attested); {@code reason}
   * names the failed check, never the token. {@code session}/{@code pod} when known (events).
   */
  public static final class Refused extends RuntimeException {
    private final int status;
    private final transient AgentSession session;
    private final String pod;

    Refused(int status, String reason, AgentSession session, String pod) {
      super(reason, null, false, false);
      this.status = status;
      this.session = session;
      this.pod = pod;
    }

    public int status() {
      return status;
    }

    public AgentSession session() {
      return session;
    }

    /** {@code <namespace>/<name>} of the pod the token is bound to, or null. */
    public String pod() {
      return pod;
    }
  }

  /**
   * @throws Refused when the token or its pod or session does not pass
   * @throws KubernetesClientException when the API server cannot be asked (the caller answers 503)
   */
  public Attested attest(String identityToken) {
    if (identityToken == null || identityToken.isBlank()) {
      throw new Refused(
          401,
          "no identity token (Authorization: Bearer <projected service-account token>)",
          null,
          null);
    }
    TokenReview review =
        client
            .authentication()
            .v1()
            .tokenReviews()
            .create(
                new TokenReviewBuilder()
                    .withNewSpec()
                    .withToken(identityToken.strip())
                    .withAudiences(audience)
                    .endSpec()
                    .build());
    var status = review.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      throw new Refused(
          401,
          "the identity token is not valid for audience \""
              + audience
              + "\""
              + (status != null && status.getError() != null
                  ? " (the API server: " + bounded(status.getError()) + ")"
                  : ""),
          null,
          null);
    }
    if (status.getAudiences() != null
        && !status.getAudiences().isEmpty()
        && !status.getAudiences().contains(audience)) {
      throw new Refused(
          401, "the identity token is not for audience \"" + audience + "\"", null, null);
    }
    UserInfo user = status.getUser();
    String username = user == null ? null : user.getUsername();
    if (username == null
        || !username.startsWith(SA_PREFIX)
        || username.substring(SA_PREFIX.length()).split(":").length != 2) {
      throw new Refused(403, "the identity token is not a service account's", null, null);
    }
    String[] nsAndSa = username.substring(SA_PREFIX.length()).split(":");
    String namespace = nsAndSa[0];
    String serviceAccount = nsAndSa[1];
    String podName = extra(user, EXTRA_POD_NAME);
    String podUid = extra(user, EXTRA_POD_UID);
    if (podName == null || podUid == null) {
      throw new Refused(
          403,
          "the identity token of service account "
              + namespace
              + "/"
              + serviceAccount
              + " is not bound to a pod (a projected token of the injected sidecar is)",
          null,
          null);
    }
    String podRef = namespace + "/" + podName;

    Pod pod = client.pods().inNamespace(namespace).withName(podName).get();
    if (pod == null || !podUid.equals(pod.getMetadata().getUid())) {
      throw refusedPod(podRef, " (uid " + podUid + ") no longer exists");
    }
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      throw refusedPod(podRef, " is being deleted");
    }
    checkInjected(pod, podRef, serviceAccount);

    String sessionName = label(pod, PodMarkers.SESSION);
    if (sessionName == null) {
      throw refusedPod(podRef, " names no session (label " + PodMarkers.SESSION + ")");
    }
    SessionResolver.Resolution resolution = sessions.resolve(namespace, sessionName);
    if (resolution instanceof SessionResolver.Unusable unusable) {
      throw new Refused(403, unusable.reason(), unusable.session(), podRef);
    }
    AgentSession session = ((SessionResolver.Usable) resolution).session();
    if (session.getStatus() == null || session.getStatus().phase() != Phase.Active) {
      throw new Refused(
          403,
          "AgentSession \""
              + sessionName
              + "\" is not Active yet (phase "
              + (session.getStatus() == null ? "none" : session.getStatus().phase())
              + ")",
          session,
          podRef);
    }
    if (session.getSpec().vault() == null) {
      throw new Refused(
          403, "AgentSession \"" + sessionName + "\" has no spec.vault", session, podRef);
    }
    return new Attested(pod, session, serviceAccount);
  }

  private void checkInjected(Pod pod, String podRef, String serviceAccount) {
    if (!"true".equals(label(pod, PodMarkers.INJECT))) {
      throw refusedPod(podRef, " is not opted in (label " + PodMarkers.INJECT + "=true)");
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    if (annotations == null
        || !PodMarkers.STATUS_INJECTED.equals(annotations.get(PodMarkers.STATUS))) {
      throw refusedPod(podRef, " is not injected (annotation " + PodMarkers.STATUS + ")");
    }
    List<Container> inits =
        pod.getSpec().getInitContainers() == null ? List.of() : pod.getSpec().getInitContainers();
    Container proxy =
        inits.stream()
            .filter(c -> SidecarContract.PROXY_CONTAINER.equals(c.getName()))
            .findFirst()
            .orElseThrow(
                () ->
                    refusedPod(
                        podRef, " has no " + SidecarContract.PROXY_CONTAINER + " init container"));
    if (!sidecarImage.equals(proxy.getImage())) {
      throw refusedPod(
          podRef,
          ": " + SidecarContract.PROXY_CONTAINER + " does not run the configured sidecar image");
    }
    if (!List.of(SidecarContract.PROXY_ARG).equals(proxy.getArgs())
        || (proxy.getCommand() != null && !proxy.getCommand().isEmpty())) {
      throw refusedPod(
          podRef,
          ": "
              + SidecarContract.PROXY_CONTAINER
              + " does not run \""
              + SidecarContract.PROXY_ARG
              + "\" of the sidecar image");
    }
    // Admission hardening refuses this already; checked again because the token is the identity.
    List<VolumeMount> others = new ArrayList<>();
    Stream.concat(pod.getSpec().getContainers().stream(), inits.stream())
        .filter(
            c ->
                !SidecarContract.PROXY_CONTAINER.equals(c.getName()) && c.getVolumeMounts() != null)
        .forEach(c -> others.addAll(c.getVolumeMounts()));
    if (pod.getSpec().getEphemeralContainers() != null) {
      pod.getSpec().getEphemeralContainers().stream()
          .filter(c -> c.getVolumeMounts() != null)
          .forEach(c -> others.addAll(c.getVolumeMounts()));
    }
    boolean elsewhere = others.stream().anyMatch(m -> PodInjector.TOKEN_VOLUME.equals(m.getName()));
    if (elsewhere) {
      throw refusedPod(
          podRef,
          ": a container other than "
              + SidecarContract.PROXY_CONTAINER
              + " mounts the identity token");
    }
    String podAccount =
        pod.getSpec().getServiceAccountName() == null
            ? "default"
            : pod.getSpec().getServiceAccountName();
    if (!podAccount.equals(serviceAccount)) {
      throw refusedPod(podRef, " does not run as the token's service account");
    }
  }

  /** The pod is not what a sidecar's token may come from: {@code problem} follows its name. */
  private static Refused refusedPod(String podRef, String problem) {
    return new Refused(403, "pod " + podRef + problem, null, podRef);
  }

  private static String extra(UserInfo user, String key) {
    if (user.getExtra() == null) {
      return null;
    }
    List<String> values = user.getExtra().get(key);
    return values == null || values.size() != 1 || values.getFirst().isBlank()
        ? null
        : values.getFirst();
  }

  private static String label(Pod pod, String key) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels == null ? null : labels.get(key);
  }

  private static String bounded(String text) {
    return text.length() > 200 ? text.substring(0, 200) + "..." : text;
  }
}
