package dev.capgate.sidecar.dataplane;

import static dev.capgate.sidecar.dataplane.SessionSpecs.rule;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capgate.sidecar.netns.Command;
import dev.capgate.sidecar.netns.PodNetns;
import dev.capgate.sidecar.netns.UpstreamServers;
import dev.capgate.testkit.Tools;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * HTTP/2 by the book: the public h2spec conformance suite run against the test upstream alone (from
 * the upstream's namespace) and through the sidecar (the agent's connection to an allowed host,
 * intercepted and terminated with the pod CA's leaf). Every case the upstream passes must pass
 * through the sidecar too: the sidecar may not be the one that breaks the protocol, and an agent's
 * protocol errors may not flood the sidecar's log.
 */
class H2ConformanceIT {
  private static final String HOST = "api.github.test";
  @AutoClose private static PodNetns pod;
  private static Path h2spec;

  @BeforeAll
  static void startPod() throws Exception {
    pod = DataPlanePod.start("H2ConformanceIT", null);
    pod.startSidecar(
        SessionSpecs.specOnly()
            .egress(rule("conformance").hosts(HOST).ports(443).paths("/", "/**"))
            .json(),
        null,
        List.of());
    // The agent (uid 1000) cannot read the tools cache under root's home: it runs a copy.
    h2spec = pod.dir().resolve("h2spec");
    Files.copy(Tools.bin("h2spec"), h2spec, StandardCopyOption.REPLACE_EXISTING);
    Files.setPosixFilePermissions(h2spec, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void every_case_the_upstream_passes_also_passes_through_the_sidecar() throws Exception {
    // Written by the agent (uid 1000), too.
    Path reports = Files.createDirectories(pod.dir().resolve("h2spec-reports"));
    Files.setPosixFilePermissions(reports, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path direct = reports.resolve("upstream.xml");
    Path proxied = reports.resolve("sidecar.xml");
    // The direct run: from the upstream's own namespace to its address (the agent's namespace has
    // no
    // route around the sidecar, by design). A local address is reached over loopback.
    pod.inPeer("ip", "link", "set", "lo", "up").requireSuccess();
    // Warm both ends first: h2spec gives each case a few seconds, a cold JVM's first handshake can
    // take longer.
    Command.Result warmUp =
        pod.inPeer(
            "curl",
            "-sk",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "https://" + UpstreamServers.V4 + "/");
    assertThat(warmUp.stdout()).as(warmUp.all()).isNotBlank();
    pod.asAgent("curl", "-sk", "--http2", "-o", "/dev/null", "https://" + HOST + "/");
    Command.Result upstream =
        pod.inPeer(
            h2spec.toString(),
            "-h",
            UpstreamServers.V4,
            "-p",
            "443",
            "-t",
            "-k",
            "-o",
            "5",
            "-j",
            direct.toString());
    assertThat(direct).as(upstream.all()).exists();
    Command.Result sidecar =
        pod.asAgent(
            Map.of(),
            Duration.ofMinutes(3),
            h2spec.toString(),
            "-h",
            HOST,
            "-p",
            "443",
            "-t",
            "-k",
            "-o",
            "10",
            "-j",
            proxied.toString());
    assertThat(proxied).as(sidecar.all()).exists();

    Report alone = Report.read(direct);
    Report through = Report.read(proxied);
    System.out.println(
        "h2spec, upstream alone: "
            + alone.passed().size()
            + " of "
            + alone.cases()
            + " passed; failed: "
            + alone.failed());
    System.out.println(
        "h2spec, through the sidecar: "
            + through.passed().size()
            + " of "
            + through.cases()
            + " passed; failed: "
            + through.failed());
    Set<String> brokenBySidecar = new TreeSet<>(alone.passed());
    brokenBySidecar.removeAll(through.passed());
    assertThat(alone.passed()).as(upstream.all()).isNotEmpty();
    assertThat(brokenBySidecar).as(sidecar.all()).isEmpty();

    String log = pod.log("sidecar.log");
    assertThat(log).doesNotContain("reached at the tail of the pipeline");
    // The malformed requests h2spec sends (8.1.2.3: no :method, no :scheme, no :path) were refused
    // with an audit line each.
    List<String> refused = new ArrayList<>();
    for (String why : List.of("missing :method", "missing :scheme", "missing or empty :path")) {
      JsonObject line = AuditLines.awaitLast(pod, HOST, "malformed-request: " + why);
      assertThat(line.getString("decision")).isEqualTo("deny");
      refused.add(why);
    }
    assertThat(refused).hasSize(3);

    // The heads Netty's codec refuses itself are reset before any exchange exists; each still has
    // its audit line (one per stream, the error code only).
    List<String> codecRefusedCases =
        through.passed().stream().filter(H2ConformanceIT::refusedByTheCodec).toList();
    assertThat(codecRefusedCases).hasSize(CODEC_REFUSED.size());
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                AuditLines.matching(pod, HOST, "h2-stream-refused: PROTOCOL_ERROR").size()
                    >= codecRefusedCases.size());
    // A stream broken mid-request (8.1.2.6: DATA that does not add up to its content-length) ends
    // its exchange with the error code as the audit reason, not "agent closed the connection".
    assertThat(AuditLines.matching(pod, HOST, ""))
        .filteredOn(line -> line.getString("reason").contains("; h2-stream-error: PROTOCOL_ERROR"))
        .as(log)
        .hasSizeGreaterThanOrEqualTo(2);
  }

  /**
   * The h2spec cases whose request head Netty's HTTP/2 codec refuses before a stream exists (RFC
   * 9113 §8.2.1, §8.2.2, §8.3.1: header field names and pseudo-headers).
   */
  private static final List<String> CODEC_REFUSED =
      List.of(
          "http2/8.1.2 Sends a HEADERS frame that contains the header field name in uppercase",
          "http2/8.1.2.1 Sends a HEADERS frame that contains a unknown pseudo-header field",
          "http2/8.1.2.1 Sends a HEADERS frame that contains the pseudo-header field defined for",
          "http2/8.1.2.1 Sends a HEADERS frame that contains a pseudo-header field that appears",
          "http2/8.1.2.2 Sends a HEADERS frame that contains the connection-specific header field",
          "http2/8.1.2.2 Sends a HEADERS frame that contains the TE header field",
          "http2/8.1.2.3 Sends a HEADERS frame with duplicated \":method\"",
          "http2/8.1.2.3 Sends a HEADERS frame with duplicated \":scheme\"",
          "http2/8.1.2.3 Sends a HEADERS frame with duplicated \":path\"");

  private static boolean refusedByTheCodec(String h2specCase) {
    return CODEC_REFUSED.stream().anyMatch(h2specCase::startsWith);
  }

  /** The outcome of one h2spec run, from its JUnit report. */
  private record Report(int cases, Set<String> passed, Set<String> failed) {
    static Report read(Path junit) throws Exception {
      var factory = DocumentBuilderFactory.newInstance();
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      NodeList cases =
          factory.newDocumentBuilder().parse(junit.toFile()).getElementsByTagName("testcase");
      Set<String> passed = new TreeSet<>();
      Set<String> failed = new TreeSet<>();
      for (int i = 0; i < cases.getLength(); i++) {
        Element c = (Element) cases.item(i);
        String name = c.getAttribute("package") + " " + c.getAttribute("classname");
        if (c.getElementsByTagName("failure").getLength() > 0
            || c.getElementsByTagName("error").getLength() > 0) {
          failed.add(name);
        } else if (c.getElementsByTagName("skipped").getLength() == 0) {
          passed.add(name);
        }
      }
      return new Report(cases.getLength(), passed, failed);
    }
  }
}
