package dev.capgate.sidecar.git;

import dev.capgate.sidecar.policy.PushRules;
import dev.capgate.sidecar.policy.RefUpdate;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The answer to a refused push, in the form git prints best: a {@code 200} receive-pack result with
 * report-status {@code unpack ok} and {@code ng <ref> <reason>} for every command (git shows
 * "[remote rejected] ... (reason)" per ref and fails the push), wrapped in side-band 1 when the
 * client asked for side-band-64k, with the reason also on side-band 2 (git prints it as "remote:
 * ..."). Every command is refused, not only the offending one: the push never reaches the server,
 * so none of its refs move.
 */
public final class ReceivePackRefusal {
  public static final String CONTENT_TYPE = "application/x-git-receive-pack-result";

  private ReceivePackRefusal() {}

  /** Whether the client can read such an answer (it asked for report-status). */
  public static boolean reportable(Set<String> capabilities) {
    return capabilities.contains("report-status") || capabilities.contains("report-status-v2");
  }

  /**
   * @param message one line for the user, e.g. "capgate: refs/heads/main: ref not allowed ..."
   */
  public static byte[] body(
      CommandSection.Commands push, PushRules.Refusal refusal, String message) {
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    pkt(report, "unpack ok\n".getBytes(StandardCharsets.UTF_8));
    for (RefUpdate command : push.updates()) {
      String why =
          command.ref().equals(refusal.ref())
              ? refusal.reason()
              : "push refused whole by capgate: " + refusal.ref() + " is not allowed";
      pkt(report, ("ng " + command.ref() + " " + why + "\n").getBytes(StandardCharsets.UTF_8));
    }
    report.write('0');
    report.write('0');
    report.write('0');
    report.write('0');
    if (!push.capabilities().contains("side-band-64k")) {
      return report.toByteArray();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    pkt(out, band(2, (message + "\n").getBytes(StandardCharsets.UTF_8)));
    pkt(out, band(1, report.toByteArray())); // small: well within one side-band packet
    out.writeBytes("0000".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  private static byte[] band(int band, byte[] data) {
    byte[] out = new byte[data.length + 1];
    out[0] = (byte) band;
    System.arraycopy(data, 0, out, 1, data.length);
    return out;
  }

  private static void pkt(ByteArrayOutputStream out, byte[] payload) {
    out.writeBytes(String.format("%04x", payload.length + 4).getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(payload);
  }
}
