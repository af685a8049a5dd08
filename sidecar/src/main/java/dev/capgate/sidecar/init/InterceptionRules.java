package dev.capgate.sidecar.init;

import java.util.ArrayList;
import java.util.List;

/**
 * The pod's interception rules as data: {@code iptables-restore --noflush} input, built by a pure
 * function so that the text can be compared with a golden file and the code that runs it stays
 * trivial (the istio-iptables / linkerd2-proxy-init way).
 *
 * <p>Idempotence: every rule lives in a chain of our own; declaring such a chain in
 * {@code iptables-restore --noflush} input flushes it, so a rerun rewrites the chains instead of
 * appending duplicates. The only rules outside our chains are the jumps from the built-in OUTPUT
 * chains, and those are emitted only when {@link #render(IpFamily, String)} does not find them in
 * the current {@code iptables-save} output.
 */
public final class InterceptionRules {
  /** nat: decides what is redirected where. */
  public static final String NAT_CHAIN = "CAPGATE_OUTPUT";
  /** nat: the redirect of agent TCP to the sidecar's transparent listener. */
  public static final String REDIRECT_CHAIN = "CAPGATE_REDIRECT";
  /** filter: drops what cannot be redirected (UDP other than DNS, ICMP, raw sockets). */
  public static final String FILTER_CHAIN = "CAPGATE_EGRESS";

  private final InterceptionConfig config;

  public InterceptionRules(InterceptionConfig config) {
    this.config = config;
  }

  /**
   * The restore input for one family.
   *
   * @param currentSave what {@code iptables-save} prints now (empty if nothing): jumps already
   *                    present there are not inserted again
   */
  public String render(IpFamily family, String currentSave) {
    StringBuilder out = new StringBuilder();
    out.append("*nat\n");
    out.append(':').append(NAT_CHAIN).append(" - [0:0]\n");
    out.append(':').append(REDIRECT_CHAIN).append(" - [0:0]\n");
    natRules().forEach(rule -> out.append(rule).append('\n'));
    if (!hasJump(currentSave, "nat", NAT_CHAIN)) {
      out.append(jump(NAT_CHAIN, "capgate: send pod egress through the sidecar")).append('\n');
    }
    out.append("COMMIT\n");
    out.append("*filter\n");
    out.append(':').append(FILTER_CHAIN).append(" - [0:0]\n");
    filterRules(family).forEach(rule -> out.append(rule).append('\n'));
    if (!hasJump(currentSave, "filter", FILTER_CHAIN)) {
      out.append(jump(FILTER_CHAIN, "capgate: drop egress the sidecar cannot see")).append('\n');
    }
    out.append("COMMIT\n");
    return out.toString();
  }

  private List<String> natRules() {
    List<String> rules = new ArrayList<>();
    // The sidecar's own connections (upstream TLS, Vault, DNS to the real resolver) go out as they are.
    rules.add(rule(NAT_CHAIN, "-m owner --uid-owner " + config.proxyUid(), "RETURN",
        "capgate: the sidecar's own traffic is exempt"));
    // Before the loopback exception: a resolver on loopback must not answer agents behind our back.
    rules.add(rule(NAT_CHAIN, "-p udp -m udp --dport 53", "REDIRECT --to-ports " + config.dnsPort(),
        "capgate: DNS goes to the sidecar's DNS proxy"));
    rules.add(rule(NAT_CHAIN, "-p tcp -m tcp --dport 53", "REDIRECT --to-ports " + config.dnsPort(),
        "capgate: DNS over TCP goes to the sidecar's DNS proxy"));
    rules.add(rule(NAT_CHAIN, "-o lo", "RETURN", "capgate: loopback stays inside the pod"));
    rules.add(rule(NAT_CHAIN, "-p tcp", REDIRECT_CHAIN, "capgate: all other TCP goes to the sidecar"));
    rules.add(rule(REDIRECT_CHAIN, "-p tcp", "REDIRECT --to-ports " + config.proxyPort(),
        "capgate: the sidecar's transparent listener"));
    return rules;
  }

  private List<String> filterRules(IpFamily family) {
    List<String> rules = new ArrayList<>();
    rules.add(rule(FILTER_CHAIN, "-o lo", "RETURN", "capgate: loopback stays inside the pod"));
    rules.add(rule(FILTER_CHAIN, "-m owner --uid-owner " + config.proxyUid(), "RETURN",
        "capgate: the sidecar's own traffic is exempt"));
    rules.add(rule(FILTER_CHAIN, "-p tcp", "RETURN", "capgate: TCP is redirected to the sidecar by nat"));
    // A redirected packet still carries its original output device here (the OUTPUT hooks all see
    // the device routed before nat), so "-o lo" does not catch it; its new destination does. Only
    // DNS that nat really redirected passes: without the nat rule it would be dropped, not leak.
    String loopback = family == IpFamily.IPV4 ? "127.0.0.1/32" : "::1/128";
    rules.add(rule(FILTER_CHAIN, "-d " + loopback + " -p udp -m udp --dport " + config.dnsPort(), "RETURN",
        "capgate: DNS redirected to the sidecar's DNS proxy"));
    // --socket-exists: packets the kernel sends on its own (IPv6 neighbour discovery, ICMP errors)
    // have no socket and must pass; everything an agent socket sends here (UDP, ICMP, raw) must not.
    rules.add(rule(FILTER_CHAIN, "-m owner --socket-exists", "DROP",
        "capgate: no UDP, ICMP or raw egress from agents"));
    return rules;
  }

  private static String rule(String chain, String match, String target, String comment) {
    return "-A " + chain + " " + match + " -m comment --comment \"" + comment + "\" -j " + target;
  }

  /** Inserted first in OUTPUT: rules other tools add later must not run before ours. */
  private static String jump(String chain, String comment) {
    return "-I OUTPUT 1 -m comment --comment \"" + comment + "\" -j " + chain;
  }

  /** Whether the save output already has {@code -A OUTPUT ... -j <chain>} in {@code table}. */
  static boolean hasJump(String save, String table, String chain) {
    boolean inTable = false;
    for (String line : save.split("\n")) {
      String l = line.strip();
      if (l.startsWith("*")) {
        inTable = l.equals("*" + table);
      } else if (inTable && l.startsWith("-A OUTPUT ") && l.endsWith("-j " + chain)) {
        return true;
      }
    }
    return false;
  }
}
