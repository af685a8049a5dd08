package dev.capgate.sidecar.init;

import java.util.ArrayList;
import java.util.List;

/**
 * The pod's interception rules as data: {@code iptables-restore --noflush} input, built by a pure
 * function so that the text can be compared with a golden file and the code that runs it stays
 * trivial (the istio-iptables / linkerd2-proxy-init way).
 *
 * <p>Egress: agent TCP is redirected to the sidecar, DNS to its DNS proxy, everything else an agent
 * socket sends is dropped. Inbound: dropped unless it belongs to a connection the pod opened, stays
 * on loopback, or reaches the sidecar's admin port or a port the pod declared (replies to an
 * inbound connection are never redirected, so an open port would be a channel out that no policy
 * sees).
 *
 * <p>Idempotence: every rule lives in a chain of our own; declaring such a chain in {@code
 * iptables-restore --noflush} input flushes it, so a rerun rewrites the chains instead of appending
 * duplicates. The only rules outside our chains are the jumps from the built-in OUTPUT and INPUT
 * chains, and those are emitted only when {@link #render(IpFamily, String)} does not find them in
 * the current {@code iptables-save} output.
 */
public final class InterceptionRules {
  /** nat: decides what is redirected where. */
  public static final String NAT_CHAIN = "CAPGATE_OUTPUT";

  /** nat: the redirect of agent TCP to the sidecar's transparent listener. */
  public static final String REDIRECT_CHAIN = "CAPGATE_REDIRECT";

  /** raw: puts the sidecar's own connections in a conntrack zone of their own. */
  public static final String CONNTRACK_CHAIN = "CAPGATE_CONNTRACK";

  /**
   * The conntrack zone of the original direction of the sidecar's own connections (any number but
   * the default zone 0, where the agents' connections live).
   */
  static final int SIDECAR_ZONE = 1;

  /**
   * The zone of another proxy's connections ({@code --exempt-uids}): they are exempt from the
   * redirect too, so an agent's SYN matching one of their half-closed entries would leave the pod
   * unproxied; and not the sidecar's zone, where the mesh's own redirect of the sidecar's
   * connections lives.
   */
  static final int EXEMPT_PROXY_ZONE = 2;

  /** filter: drops what cannot be redirected (UDP other than DNS, ICMP, raw sockets). */
  public static final String FILTER_CHAIN = "CAPGATE_EGRESS";

  /** filter: what may connect in to the pod. */
  public static final String INBOUND_CHAIN = "CAPGATE_INBOUND";

  /**
   * ICMPv6 router solicitation/advertisement and neighbour solicitation/advertisement: IPv6's ARP.
   * Conntrack does not track them (they match state INVALID), so they need a rule of their own.
   */
  static final List<Integer> NEIGHBOUR_DISCOVERY = List.of(133, 134, 135, 136);

  private final InterceptionConfig config;

  public InterceptionRules(InterceptionConfig config) {
    this.config = config;
  }

  /**
   * The restore input for one family.
   *
   * @param currentSave what {@code iptables-save} prints now (empty if nothing): jumps already
   *     present there are not inserted again
   */
  public String render(IpFamily family, String currentSave) {
    StringBuilder out = new StringBuilder();
    out.append("*raw\n");
    out.append(':').append(CONNTRACK_CHAIN).append(" - [0:0]\n");
    conntrackRules().forEach(rule -> out.append(rule).append('\n'));
    if (!hasJump(currentSave, "raw", "OUTPUT", CONNTRACK_CHAIN)) {
      out.append(
              jump(
                  "OUTPUT",
                  CONNTRACK_CHAIN,
                  "capgate: the sidecar's connections never meet the agents' in conntrack"))
          .append('\n');
    }
    out.append("COMMIT\n");
    out.append("*nat\n");
    out.append(':').append(NAT_CHAIN).append(" - [0:0]\n");
    out.append(':').append(REDIRECT_CHAIN).append(" - [0:0]\n");
    natRules().forEach(rule -> out.append(rule).append('\n'));
    if (!hasJump(currentSave, "nat", "OUTPUT", NAT_CHAIN)) {
      out.append(jump("OUTPUT", NAT_CHAIN, "capgate: send pod egress through the sidecar"))
          .append('\n');
    }
    out.append("COMMIT\n");
    out.append("*filter\n");
    out.append(':').append(FILTER_CHAIN).append(" - [0:0]\n");
    out.append(':').append(INBOUND_CHAIN).append(" - [0:0]\n");
    filterRules(family).forEach(rule -> out.append(rule).append('\n'));
    inboundRules(family).forEach(rule -> out.append(rule).append('\n'));
    if (!hasJump(currentSave, "filter", "OUTPUT", FILTER_CHAIN)) {
      out.append(jump("OUTPUT", FILTER_CHAIN, "capgate: drop egress the sidecar cannot see"))
          .append('\n');
    }
    if (!hasJump(currentSave, "filter", "INPUT", INBOUND_CHAIN)) {
      out.append(jump("INPUT", INBOUND_CHAIN, "capgate: drop inbound the pod did not declare"))
          .append('\n');
    }
    out.append("COMMIT\n");
    return out.toString();
  }

  /**
   * Why a zone: the sidecar's upstream connection and the agent connection it serves have the same
   * shape (pod IP, ephemeral port, upstream IP and port), and Linux draws connect ports for one
   * destination from one sequence, whoever connects. Under a flood of short connections the
   * sidecar's connect reuses the port of an agent connection conntrack still holds half-closed
   * (FIN_WAIT, CLOSE_WAIT, LAST_ACK); conntrack then takes the sidecar's SYN for a packet of that
   * old connection (it ignores a SYN in those states instead of starting anew), and its REDIRECT
   * sends the sidecar to its own listener: nat sees only new connections, so the uid exemption
   * below never runs. The same clash the other way round would send an agent's SYN out without
   * redirect. In a zone of their own (the original direction only: replies come back in the default
   * zone, where the reply tuple is), the sidecar's connections cannot match an agent's entry, nor
   * an agent's theirs.
   */
  private List<String> conntrackRules() {
    List<String> rules = new ArrayList<>();
    rules.add(
        rule(
            CONNTRACK_CHAIN,
            "-m owner --uid-owner " + config.proxyUid(),
            "CT --zone-orig " + SIDECAR_ZONE,
            "capgate: the sidecar's own connections in a conntrack zone of their own"));
    for (int uid : config.exemptUids()) {
      rules.add(
          rule(
              CONNTRACK_CHAIN,
              "-m owner --uid-owner " + uid,
              "CT --zone-orig " + EXEMPT_PROXY_ZONE,
              "capgate: another proxy's connections in a conntrack zone of their own"));
    }
    return rules;
  }

  private List<String> natRules() {
    List<String> rules = new ArrayList<>();
    // The sidecar's own connections (upstream TLS, Vault, DNS to the real resolver) go out as they
    // are.
    rules.add(
        rule(
            NAT_CHAIN,
            "-m owner --uid-owner " + config.proxyUid(),
            "RETURN",
            "capgate: the sidecar's own traffic is exempt"));
    rules.addAll(exemptProxies(NAT_CHAIN));
    // Before the loopback exception: a resolver on loopback must not answer agents behind our back.
    rules.add(
        rule(
            NAT_CHAIN,
            "-p udp -m udp --dport 53",
            "REDIRECT --to-ports " + config.dnsPort(),
            "capgate: DNS goes to the sidecar's DNS proxy"));
    rules.add(
        rule(
            NAT_CHAIN,
            "-p tcp -m tcp --dport 53",
            "REDIRECT --to-ports " + config.dnsPort(),
            "capgate: DNS over TCP goes to the sidecar's DNS proxy"));
    rules.add(rule(NAT_CHAIN, "-o lo", "RETURN", "capgate: loopback stays inside the pod"));
    rules.add(
        rule(NAT_CHAIN, "-p tcp", REDIRECT_CHAIN, "capgate: all other TCP goes to the sidecar"));
    rules.add(
        rule(
            REDIRECT_CHAIN,
            "-p tcp",
            "REDIRECT --to-ports " + config.proxyPort(),
            "capgate: the sidecar's transparent listener"));
    return rules;
  }

  /**
   * Another proxy in the pod (a service mesh's, {@code --exempt-uids}): its connections go out as
   * they are, else the sidecar's upstream connection, redirected to that proxy by the mesh's rules,
   * would come back here from it, and so on (docs/meshes.md).
   */
  private List<String> exemptProxies(String chain) {
    List<String> rules = new ArrayList<>();
    for (int uid : config.exemptUids()) {
      rules.add(
          rule(
              chain,
              "-m owner --uid-owner " + uid,
              "RETURN",
              "capgate: another proxy's traffic is exempt (--exempt-uids)"));
    }
    return rules;
  }

  private List<String> filterRules(IpFamily family) {
    List<String> rules = new ArrayList<>();
    // Istio's defence: a TCP packet conntrack cannot place (e.g. a stale segment of a closed
    // connection whose port was reused) must not go out unredirected or be taken for a new
    // connection. TCP only: IPv6 neighbour discovery is INVALID to conntrack too and must pass.
    rules.add(
        rule(
            FILTER_CHAIN,
            "-p tcp -m conntrack --ctstate INVALID",
            "DROP",
            "capgate: drop TCP that conntrack cannot place"));
    rules.add(rule(FILTER_CHAIN, "-o lo", "RETURN", "capgate: loopback stays inside the pod"));
    rules.add(
        rule(
            FILTER_CHAIN,
            "-m owner --uid-owner " + config.proxyUid(),
            "RETURN",
            "capgate: the sidecar's own traffic is exempt"));
    rules.addAll(exemptProxies(FILTER_CHAIN));
    rules.add(
        rule(FILTER_CHAIN, "-p tcp", "RETURN", "capgate: TCP is redirected to the sidecar by nat"));
    // A redirected packet still carries its original output device here (the OUTPUT hooks all see
    // the device routed before nat), so "-o lo" does not catch it; its new destination does. Only
    // DNS that nat really redirected passes: without the nat rule it would be dropped, not leak.
    String loopback = family == IpFamily.IPV4 ? "127.0.0.1/32" : "::1/128";
    rules.add(
        rule(
            FILTER_CHAIN,
            "-d " + loopback + " -p udp -m udp --dport " + config.dnsPort(),
            "RETURN",
            "capgate: DNS redirected to the sidecar's DNS proxy"));
    if (family == IpFamily.IPV6) {
      // The kernel sends neighbour discovery from a socket of its own, so --socket-exists below
      // would drop it: without these, the pod could neither resolve its peers nor answer them.
      // Hop limit 255 is what ND requires (RFC 4861); such packets never leave the link.
      for (int type : NEIGHBOUR_DISCOVERY) {
        rules.add(
            rule(
                FILTER_CHAIN,
                "-p ipv6-icmp -m icmp6 --icmpv6-type " + type + " -m hl --hl-eq 255",
                "RETURN",
                "capgate: IPv6 neighbour discovery"));
      }
    }
    // --socket-exists: packets the kernel sends on its own (ICMP errors, TCP resets) have no
    // socket and must pass; everything an agent socket sends here (UDP, ICMP, raw) must not.
    rules.add(
        rule(
            FILTER_CHAIN,
            "-m owner --socket-exists",
            "DROP",
            "capgate: no UDP, ICMP or raw egress from agents"));
    return rules;
  }

  private List<String> inboundRules(IpFamily family) {
    List<String> rules = new ArrayList<>();
    rules.add(rule(INBOUND_CHAIN, "-i lo", "RETURN", "capgate: loopback stays inside the pod"));
    if (family == IpFamily.IPV6) {
      for (int type : NEIGHBOUR_DISCOVERY) {
        rules.add(
            rule(
                INBOUND_CHAIN,
                "-p ipv6-icmp -m icmp6 --icmpv6-type " + type,
                "RETURN",
                "capgate: IPv6 neighbour discovery"));
      }
    }
    // Replies to what the pod opened (the sidecar's upstreams, DNS answers) and ICMP errors about
    // it.
    rules.add(
        rule(
            INBOUND_CHAIN,
            "-m conntrack --ctstate RELATED,ESTABLISHED",
            "RETURN",
            "capgate: replies to connections the pod opened"));
    rules.add(
        rule(
            INBOUND_CHAIN,
            "-p tcp -m tcp --dport " + config.adminPort() + " -m conntrack --ctstate NEW",
            "RETURN",
            "capgate: the sidecar's admin port (kubelet probes)"));
    for (int port : config.inboundPorts()) {
      rules.add(
          rule(
              INBOUND_CHAIN,
              "-p tcp -m tcp --dport " + port + " -m conntrack --ctstate NEW",
              "RETURN",
              "capgate: inbound port the pod declared"));
    }
    rules.add(rule(INBOUND_CHAIN, "", "DROP", "capgate: no other inbound traffic"));
    return rules;
  }

  private static String rule(String chain, String match, String target, String comment) {
    return "-A "
        + chain
        + (match.isEmpty() ? "" : " " + match)
        + " -m comment --comment \""
        + comment
        + "\" -j "
        + target;
  }

  /** Inserted first in the built-in chain: rules other tools add later must not run before ours. */
  private static String jump(String builtIn, String chain, String comment) {
    return "-I " + builtIn + " 1 -m comment --comment \"" + comment + "\" -j " + chain;
  }

  /** Whether the save output already has {@code -A <builtIn> ... -j <chain>} in {@code table}. */
  static boolean hasJump(String save, String table, String builtIn, String chain) {
    boolean inTable = false;
    for (String line : save.split("\n")) {
      String l = line.strip();
      if (l.startsWith("*")) {
        inTable = l.equals("*" + table);
      } else if (inTable && l.startsWith("-A " + builtIn + " ") && l.endsWith("-j " + chain)) {
        return true;
      }
    }
    return false;
  }
}
