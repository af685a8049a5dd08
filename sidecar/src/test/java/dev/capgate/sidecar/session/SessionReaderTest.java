package dev.capgate.sidecar.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.api.v1alpha1.Phase;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/** A spec field this sidecar does not know is reported, never silently dropped. */
class SessionReaderTest {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final SessionReader READER = new SessionReader();

  // YAML, not AgentSessionBuilder: the test is about fields the API's types do not have (an
  // unknown spec field, a status field from a newer operator), which the builder cannot write.
  private static GenericKubernetesResource resource(String ruleExtra) {
    return SERIALIZATION.unmarshal(
        """
        apiVersion: capgate.dev/v1alpha1
        kind: AgentSession
        metadata: {name: fix-42, namespace: agents, uid: u-1, creationTimestamp: "2026-01-01T10:00:00Z"}
        spec:
          user: alice@example.com
          agent: coding-agent
          egress:
            - name: api
              hosts: [api.example.com]%s
        status: {phase: Active, pods: 1, addedByANewerOperator: true}
        """
            .formatted(ruleExtra),
        GenericKubernetesResource.class);
  }

  @Test
  void a_known_spec_reads_as_the_typed_session_and_unknown_status_fields_do_not_matter() {
    SessionReader.Read read = READER.read(resource(""));

    assertThat(read.specProblem()).isNull();
    assertThat(read.session().getSpec().egress().getFirst().hosts())
        .containsExactly("api.example.com");
    assertThat(read.session().getStatus().phase()).isEqualTo(Phase.Active);
    assertThat(read.session().getMetadata().getUid()).isEqualTo("u-1");
  }

  @Test
  void an_unknown_spec_field_is_named_and_the_session_denied() {
    SessionReader.Read read = READER.read(resource("\n      deniedPaths: [\"/admin/**\"]"));

    assertThat(read.specProblem()).contains("spec.egress[0].deniedPaths").contains("denying");
    assertThat(read.session().getSpec().egress())
        .as("read leniently for ttl and attribution")
        .hasSize(1);
    assertThat(
            SessionDecision.decide(
                read.session(),
                read.specProblem(),
                "u-1",
                java.time.Instant.parse("2026-01-01T10:00:01Z")))
        .isEqualTo(new SessionDecision.Deny(read.specProblem(), false));
  }
}
