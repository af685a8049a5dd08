package dev.capgate.sidecar.init;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real init command in a real network namespace. */
class InitRulesIT {
  private static PodNetns pod;

  @BeforeAll
  static void createPod() {
    pod = PodNetns.create("InitRulesIT");
  }

  @AfterAll
  static void deletePod() {
    if (pod != null) {
      pod.close();
    }
  }

  @Test
  void a_second_run_changes_nothing() {
    Command.Result first = pod.runInit();
    assertThat(first.exitCode()).as(first.all()).isZero();
    String afterFirst = rules();
    Command.Result second = pod.runInit();
    assertThat(second.exitCode()).as(second.all()).isZero();
    assertThat(rules()).isEqualTo(afterFirst);
    assertThat(afterFirst.lines().filter(l -> l.endsWith("-j CAPGATE_OUTPUT")).count()).as(afterFirst).isEqualTo(2);
    assertThat(afterFirst.lines().filter(l -> l.endsWith("-j CAPGATE_EGRESS")).count()).as(afterFirst).isEqualTo(2);
    assertThat(first.stdout()).contains("# iptables-restore --noflush", "# ip6tables-restore --noflush",
        "REDIRECT --to-ports 15001", "REDIRECT --to-ports 15053");
  }

  @Test
  void without_net_admin_init_fails_with_a_clear_message() {
    Command.Result r = pod.inPod("setpriv", "--reuid", "1000", "--regid", "1000", "--clear-groups", "--",
        System.getProperty("java.home") + "/bin/java", "-jar",
        System.getProperty("user.dir") + "/target/capgate-sidecar.jar", "init");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.all()).contains("NET_ADMIN");
  }

  @Test
  void without_iptables_init_fails_with_a_clear_message() {
    Command.Result r = pod.inPod("env", "PATH=/nonexistent", System.getProperty("java.home") + "/bin/java", "-jar",
        System.getProperty("user.dir") + "/target/capgate-sidecar.jar", "init");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.all()).contains("iptables-save could not be run", "needs iptables");
  }

  /** iptables-save and ip6tables-save of the pod, without the timestamp comments and counters. */
  private static String rules() {
    String v4 = pod.inPod("iptables-save").requireSuccess().stdout();
    String v6 = pod.inPod("ip6tables-save").requireSuccess().stdout();
    return Arrays.stream((v4 + v6).split("\n")).filter(l -> !l.startsWith("#"))
        .map(l -> l.replaceAll("\\[\\d+:\\d+\\]", "[0:0]")).collect(Collectors.joining("\n"));
  }
}
