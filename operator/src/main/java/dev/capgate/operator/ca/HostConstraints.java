package dev.capgate.operator.ca;

import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.EgressRule;
import dev.capgate.api.v1alpha1.TlsMode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralSubtree;
import org.bouncycastle.asn1.x509.NameConstraints;

/**
 * The X.509 name constraints of a pod CA: it may sign for the hosts the session intercepts and
 * nothing else, so a stolen key cannot impersonate any other site.
 *
 * <p>dNSName subtrees (RFC 5280 4.2.1.10): an exact host {@code api.x.com} becomes the subtree
 * {@code api.x.com} (which RFC 5280 extends to its subdomains too; X.509 has no exact match), a
 * wildcard {@code *.x.com} becomes {@code .x.com}, which OpenSSL, Go, BoringSSL and the JDK read as
 * "subdomains of x.com only". IP addresses are excluded outright ({@code 0.0.0.0/0}, {@code ::/0}):
 * intercepted traffic is matched by name, a leaf with an IP SAN is never needed. A session that
 * intercepts nothing gets the reserved name {@code invalid} (RFC 6761), so its CA can sign for no
 * real host at all.
 */
public final class HostConstraints {
  /** RFC 6761 reserves {@code .invalid}: no real host is under it. */
  static final String NOTHING = "invalid";

  private HostConstraints() {}

  /**
   * Host patterns ({@code api.x.com}, {@code *.x.com}) of the session's intercepting rules, in
   * order.
   */
  public static List<String> interceptedHosts(AgentSessionSpec spec) {
    Set<String> hosts = new LinkedHashSet<>();
    if (spec != null && spec.egress() != null) {
      for (EgressRule rule : spec.egress()) {
        if (rule.hosts() != null && rule.tlsOrDefault() == TlsMode.INTERCEPT) {
          hosts.addAll(rule.hosts());
        }
      }
    }
    return List.copyOf(hosts);
  }

  /** The permitted dNSName subtrees for those host patterns (deduplicated, in order). */
  public static List<String> permittedDnsSubtrees(List<String> hostPatterns) {
    Set<String> subtrees = new LinkedHashSet<>();
    for (String host : hostPatterns) {
      String h = host.toLowerCase(java.util.Locale.ROOT);
      subtrees.add(h.startsWith("*.") ? h.substring(1) : h);
    }
    return subtrees.isEmpty() ? List.of(NOTHING) : List.copyOf(subtrees);
  }

  static NameConstraints nameConstraints(List<String> hostPatterns) {
    List<GeneralSubtree> permitted = new ArrayList<>();
    for (String subtree : permittedDnsSubtrees(hostPatterns)) {
      permitted.add(new GeneralSubtree(new GeneralName(GeneralName.dNSName, subtree)));
    }
    GeneralSubtree[] excluded = {
      // address + mask, all zero: every IPv4 / IPv6 address
      new GeneralSubtree(
          new GeneralName(
              GeneralName.iPAddress, new org.bouncycastle.asn1.DEROctetString(new byte[8]))),
      new GeneralSubtree(
          new GeneralName(
              GeneralName.iPAddress, new org.bouncycastle.asn1.DEROctetString(new byte[32])))
    };
    return new NameConstraints(permitted.toArray(GeneralSubtree[]::new), excluded);
  }
}
