package dev.capgate.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.operator.events.KubernetesEvents;
import dev.capgate.operator.naming.SessionNames;
import dev.capgate.operator.session.SessionRevocation;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * An operator installed without a Vault token cannot revoke the ledger. A pod of the session can
 * write that ledger, so a ledger entry must not be able to hold the session's deletion hostage:
 * revocation reports what it could not do and lets the deletion proceed.
 */
class RevocationWithoutVaultIT {
  final OperatorUnderTest it = OperatorUnderTest.shared();

  @Test
  void aLedgerTheOperatorCannotRevokeIsReportedNotBlocking() {
    String namespace = it.kube.newNamespace("novault");
    AgentSession session = it.createSession(namespace, OperatorUnderTest.githubSession("s"));
    it.client
        .configMaps()
        .inNamespace(namespace)
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName(SessionNames.leases("s"))
                .endMetadata()
                .addToData("lease.1", "database/creds/app/abc")
                .addToData("accessor.1", "hmac-accessor")
                .build())
        .createOr(c -> c.update());

    try (KubernetesEvents events = new KubernetesEvents(it.client, "it")) {
      SessionRevocation.Revoked revoked =
          new SessionRevocation(it.client, null, events).revokeLeases(session);
      assertThat(revoked.leases() + revoked.accessors()).isZero();
    }

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(it.client.v1().events().inNamespace(namespace).list().getItems())
                    .extracting(Event::getReason, Event::getType)
                    .contains(org.assertj.core.groups.Tuple.tuple("LedgerNotRevoked", "Warning")));
  }
}
