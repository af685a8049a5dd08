package dev.capgate.sidecar;

import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.sidecar.init.InitCommand;
import dev.capgate.sidecar.init.InterceptionConfig;
import dev.capgate.sidecar.init.RulesApplier;
import java.util.Arrays;
import java.util.List;
import java.util.logging.Logger;

/**
 * {@code java -jar capgate-sidecar.jar init|proxy [--flag value ...]}: one jar, two modes. The init
 * container writes the interception rules and exits; the sidecar container runs the proxy.
 */
public final class Main {
  private static final Logger LOG = Logger.getLogger(Main.class.getName());

  private Main() {}

  public static void main(String[] args) {
    JsonLogs.install("sidecar", JsonLogs.DEFAULT_LEVEL);
    if (args.length == 0 || !(args[0].equals("init") || args[0].equals("proxy"))) {
      LOG.severe(
          "usage: capgate-sidecar init|proxy [--flag value ...] (flags also from CAPGATE_* env vars)");
      System.exit(64);
    }
    List<String> flags = Arrays.asList(args).subList(1, args.length);
    int code;
    try {
      SidecarConfig config = SidecarConfig.parse(flags, System.getenv());
      // --log-level or CAPGATE_LOG_LEVEL, as for the operator.
      JsonLogs.setLevel(
          config.get("log-level").map(LogLevels::parse).orElse(JsonLogs.DEFAULT_LEVEL));
      code = args[0].equals("init") ? init(config) : proxy(config);
    } catch (IllegalArgumentException e) {
      LOG.severe("bad arguments: " + e.getMessage());
      code = 64;
    }
    System.exit(code);
  }

  private static int init(SidecarConfig config) {
    InterceptionConfig rules =
        new InterceptionConfig(
            config.getInt("proxy-uid", InterceptionConfig.DEFAULTS.proxyUid()),
            config.getInt("proxy-port", InterceptionConfig.DEFAULTS.proxyPort()),
            config.getInt("dns-port", InterceptionConfig.DEFAULTS.dnsPort()),
            config.getInt("admin-port", InterceptionConfig.DEFAULTS.adminPort()),
            InterceptionConfig.parsePorts(config.get("inbound-ports", "")));
    try {
      new InitCommand(rules, new RulesApplier(), System.out).run();
      System.out.flush();
      return 0;
    } catch (RulesApplier.InitFailure e) {
      LOG.severe("init failed: " + e.getMessage());
      return 1;
    }
  }

  private static int proxy(SidecarConfig config) {
    try {
      new ProxyCommand(config).run();
      return 0;
    } catch (ProxyCommand.StartupFailure e) {
      LOG.severe("proxy start failed: " + e.getMessage());
      return 2;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }
}
