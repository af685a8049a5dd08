package dev.capgate.sidecar.init;

import java.io.PrintStream;

/**
 * {@code capgate-sidecar init}: writes the interception rules for both address families and prints
 * what it applied. Safe to rerun: a second run leaves {@code iptables-save} unchanged.
 */
public final class InitCommand {
  private final InterceptionRules rules;
  private final RulesApplier applier;
  private final PrintStream out;

  public InitCommand(InterceptionConfig config, RulesApplier applier, PrintStream out) {
    this.rules = new InterceptionRules(config);
    this.applier = applier;
    this.out = out;
  }

  /**
   * @throws RulesApplier.InitFailure with the reason; the caller exits non-zero
   */
  public void run() {
    apply(IpFamily.IPV4);
    if (applier.ipv6Enabled()) {
      apply(IpFamily.IPV6);
    } else {
      out.println("# IPv6 is disabled in this kernel: no IPv6 rules needed");
    }
  }

  private void apply(IpFamily family) {
    String text = rules.render(family, applier.save(family));
    applier.restore(family, text);
    out.println("# " + family.restoreCommand() + " --noflush");
    out.print(text);
  }
}
