package dev.capgate.sidecar.git;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.policy.PushRules;
import dev.capgate.sidecar.policy.RefUpdate;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ReceivePackRefusalTest {
  static final String Z = "0".repeat(40);
  static final String A = "a".repeat(40);

  static final CommandSection.Commands PUSH =
      new CommandSection.Commands(
          List.of(
              new RefUpdate(Z, A, "refs/heads/agent/x"), new RefUpdate(Z, A, "refs/heads/main")),
          Set.of("report-status"));
  static final PushRules.Refusal REFUSAL =
      new PushRules.Refusal("refs/heads/main", "ref not allowed by rule 'r'");

  @Test
  void without_side_band_it_is_a_plain_report_refusing_every_ref() {
    String body =
        new String(ReceivePackRefusal.body(PUSH, REFUSAL, "capgate: no"), StandardCharsets.UTF_8);
    assertThat(body)
        .isEqualTo(
            "000eunpack ok\n"
                + "0058ng refs/heads/agent/x push refused whole by capgate: refs/heads/main is not allowed\n"
                + "0033ng refs/heads/main ref not allowed by rule 'r'\n"
                + "0000");
  }

  @Test
  void with_side_band_the_message_goes_to_band_2_and_the_report_to_band_1() {
    CommandSection.Commands push =
        new CommandSection.Commands(PUSH.updates(), Set.of("report-status", "side-band-64k"));
    byte[] body = ReceivePackRefusal.body(push, REFUSAL, "capgate: no");
    String text = new String(body, StandardCharsets.ISO_8859_1);
    assertThat(text).startsWith("0011\2capgate: no\n");
    int second = 0x11;
    int length = Integer.parseInt(text.substring(second, second + 4), 16);
    assertThat(text.charAt(second + 4)).isEqualTo('\1');
    assertThat(text.substring(second + 5, second + length))
        .startsWith("000eunpack ok\n")
        .endsWith("0000");
    assertThat(text).endsWith("0000");
    assertThat(text.length()).isEqualTo(second + length + 4);
  }

  @Test
  void only_a_client_that_asked_for_report_status_can_read_one() {
    assertThat(ReceivePackRefusal.reportable(Set.of("report-status-v2"))).isTrue();
    assertThat(ReceivePackRefusal.reportable(Set.of("side-band-64k"))).isFalse();
  }
}
