package dev.capgate.operator.it;

import static dev.capgate.operator.it.OperatorUnderTest.githubSession;

import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Invariant 7 through the real API server: each pod shape is refused with its message. */
class AdmissionHardeningIT {
  static OperatorUnderTest stack;
  static String ns;

  @BeforeAll
  static void start() {
    stack = OperatorUnderTest.shared();
    ns = stack.kube.newNamespace("hardening");
    stack.createSession(ns, githubSession("s", null));
  }

  static Stream<Arguments> refusedPods() {
    return Stream.of(
        Arguments.of("rejects hostNetwork", "hostNetwork: true", "", "spec.hostNetwork is true", "agent"),
        Arguments.of("rejects hostPID", "hostPID: true", "", "spec.hostPID is true", "agent"),
        Arguments.of("rejects shareProcessNamespace", "shareProcessNamespace: true", "", "spec.shareProcessNamespace is true", "agent"),
        Arguments.of("rejects privileged agent containers", "", "securityContext: {privileged: true}",
            "container \"agent\" is privileged", "agent"),
        Arguments.of("rejects agent containers adding NET_ADMIN", "", "securityContext: {capabilities: {add: [NET_ADMIN]}}",
            "container \"agent\" adds capability NET_ADMIN", "agent"),
        Arguments.of("rejects agent containers adding NET_RAW", "", "securityContext: {capabilities: {add: [NET_RAW]}}",
            "container \"agent\" adds capability NET_RAW", "agent"),
        Arguments.of("rejects agent containers adding SYS_ADMIN", "", "securityContext: {capabilities: {add: [SYS_ADMIN]}}",
            "container \"agent\" adds capability SYS_ADMIN", "agent"),
        Arguments.of("rejects agent containers adding ALL", "", "securityContext: {capabilities: {add: [ALL]}}",
            "container \"agent\" adds capability ALL", "agent"),
        Arguments.of("rejects agent containers running as the sidecar's uid", "", "securityContext: {runAsUser: 1337}",
            "container \"agent\" runs as uid 1337, the capgate sidecar's uid", "agent"),
        Arguments.of("rejects a pod-level runAsUser of the sidecar's uid", "securityContext: {runAsUser: 1337}", "",
            "runs as uid 1337 (from the pod's securityContext)", "agent"),
        Arguments.of("rejects agent containers mounting a CA key secret",
            "volumes: [{name: stolen, secret: {secretName: capgate-ca-bcdfghjklm}}]",
            "volumeMounts: [{name: stolen, mountPath: /stolen}]",
            "mounts volume \"stolen\", which holds the pod CA key", "agent"),
        Arguments.of("rejects agent containers mounting the sidecar's CA volume", "",
            "volumeMounts: [{name: capgate-ca, mountPath: /stolen}]",
            "mounts volume \"capgate-ca\", which holds the pod CA key", "agent"),
        Arguments.of("rejects agent containers mounting the sidecar's token", "",
            "volumeMounts: [{name: capgate-token, mountPath: /stolen}]",
            "mounts volume \"capgate-token\", which holds a service-account token", "agent"),
        Arguments.of("rejects agent containers mounting a service-account token of their own",
            "volumes: [{name: own-token, projected: {sources: [{serviceAccountToken: {path: token}}]}}]",
            "volumeMounts: [{name: own-token, mountPath: /token}]",
            "mounts volume \"own-token\", which holds a service-account token", "agent"),
        Arguments.of("rejects hostPath volumes in agent containers",
            "volumes: [{name: node, hostPath: {path: /}}]", "volumeMounts: [{name: node, mountPath: /node}]",
            "mounts volume \"node\", a hostPath volume", "agent"),
        Arguments.of("rejects containers named like the sidecar", "", "",
            "container name \"capgate-proxy\" is reserved", "capgate-proxy"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedPods")
  void refuses(String rule, String podSpec, String containerSpec, String message, String containerName) {
    String pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: hardened
          labels: {capgate.dev/inject: "true", capgate.dev/session: s}
        spec:
          %s
          containers:
          - name: %s
            image: registry.example/agent:1.0
            %s
        """.formatted(podSpec, containerName, containerSpec);
    stack.assertRefused(ns, pod, message);
  }
}
