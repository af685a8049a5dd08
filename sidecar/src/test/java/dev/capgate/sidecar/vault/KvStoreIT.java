package dev.capgate.sidecar.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capgate.common.vault.VaultClient;
import dev.capgate.sidecar.stack.VaultSetup;
import dev.capgate.testkit.OpenBaoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-back of rotated OAuth refresh tokens on a real OpenBao: check-and-set keeps two pods of
 * a session from overwriting a newer grant, and a policy without {@code update} is refused with a
 * reason that holds no value.
 */
class KvStoreIT {
  private static final String ROTATED = "rt-rotated-7c1e";
  private static OpenBaoServer bao;
  private static String mount;

  @TempDir Path dir;

  @BeforeAll
  static void mount() {
    bao = OpenBaoServer.shared();
    mount = bao.newKvMount();
    for (String caps : List.of("read", "read\", \"update")) {
      bao.request(
          "PUT",
          "sys/policies/acl/" + policy(caps),
          Map.of("policy", "path \"" + mount + "/data/*\" { capabilities = [\"" + caps + "\"] }"));
    }
  }

  private static String policy(String caps) {
    return (caps.contains("update") ? "rw-" : "ro-") + mount;
  }

  private KvStore store(String caps) throws Exception {
    String token =
        VaultSetup.parse(
                bao.request(
                    "POST",
                    "auth/token/create",
                    Map.of(
                        "policies", List.of(policy(caps)), "no_default_policy", true, "ttl", "1h")))
            .path("auth")
            .path("client_token")
            .asText();
    Path file = Files.writeString(dir.resolve("token-" + policy(caps)), token);
    return new KvStore(
        VaultClient.create(bao.address(), (Path) null, Duration.ofSeconds(5)), new TokenFile(file));
  }

  @Test
  void a_write_at_the_version_read_succeeds_and_keeps_the_other_fields() throws Exception {
    bao.putKv(mount + "/oauth/alice", Map.of("refresh_token", "rt-1", "note", "kept"));
    KvStore kv = store("read\", \"update");
    KvStore.Versioned read = kv.read(mount + "/data/oauth/alice");
    assertThat(read.version()).isEqualTo(1);
    Map<String, String> next = new java.util.HashMap<>(read.fields());
    next.put("refresh_token", ROTATED);
    assertThat(kv.writeIfUnchanged(mount + "/data/oauth/alice", next, read.version()))
        .isEqualTo(KvStore.WriteOutcome.WRITTEN);
    KvStore.Versioned after = kv.read(mount + "/data/oauth/alice");
    assertThat(after.version()).isEqualTo(2);
    assertThat(after.fields())
        .containsEntry("refresh_token", ROTATED)
        .containsEntry("note", "kept");
  }

  @Test
  void a_second_pod_writing_from_an_older_version_is_told_conflict_and_changes_nothing()
      throws Exception {
    bao.putKv(mount + "/oauth/bob", Map.of("refresh_token", "rt-1"));
    KvStore podA = store("read\", \"update");
    KvStore podB = store("read\", \"update");
    KvStore.Versioned a = podA.read(mount + "/data/oauth/bob");
    KvStore.Versioned b = podB.read(mount + "/data/oauth/bob");
    assertThat(
            podA.writeIfUnchanged(
                mount + "/data/oauth/bob", Map.of("refresh_token", "rt-a"), a.version()))
        .isEqualTo(KvStore.WriteOutcome.WRITTEN);
    assertThat(
            podB.writeIfUnchanged(
                mount + "/data/oauth/bob", Map.of("refresh_token", "rt-b"), b.version()))
        .isEqualTo(KvStore.WriteOutcome.CONFLICT);
    assertThat(podB.read(mount + "/data/oauth/bob").fields())
        .containsEntry("refresh_token", "rt-a");
  }

  @Test
  void a_policy_without_update_is_refused_without_the_value_in_the_reason() throws Exception {
    bao.putKv(mount + "/oauth/carol", Map.of("refresh_token", "rt-1"));
    KvStore kv = store("read");
    KvStore.Versioned read = kv.read(mount + "/data/oauth/carol");
    assertThatThrownBy(
            () ->
                kv.writeIfUnchanged(
                    mount + "/data/oauth/carol", Map.of("refresh_token", ROTATED), read.version()))
        .isInstanceOf(VaultReadException.class)
        .hasMessageContaining("403")
        .hasMessageNotContaining(ROTATED);
  }
}
