package dev.capgate.sidecar;

import dev.capgate.api.sidecar.SidecarContract;
import dev.capgate.api.sidecar.SidecarPorts;
import dev.capgate.common.logging.JsonLogs;
import dev.capgate.common.logging.LogLevels;
import dev.capgate.sidecar.config.SidecarCommandLine;
import dev.capgate.sidecar.config.SidecarConfig;
import dev.capgate.sidecar.init.AgentTrust;
import dev.capgate.sidecar.init.InitCommand;
import dev.capgate.sidecar.init.InterceptionConfig;
import dev.capgate.sidecar.init.RulesApplier;
import java.nio.file.Path;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * {@code java -jar capgate-sidecar.jar init|proxy [--flag value ...]}: one jar, two modes. The init
 * container writes the interception rules and exits; the sidecar container runs the proxy. A third,
 * {@code aot-train}, is the image build's AOT training run ({@link AotTraining}). The command line
 * is {@link SidecarCommandLine}'s: {@code --help}, and exit 64 for an unknown flag or a bad value.
 */
public final class Main {
  private static final Logger LOG = Logger.getLogger(Main.class.getName());

  private Main() {}

  public static void main(String[] args) {
    JsonLogs.install("sidecar", JsonLogs.DEFAULT_LEVEL);
    int code;
    switch (SidecarCommandLine.parse(args, System.getenv())) {
      case SidecarCommandLine.Exit exit when exit.code() == 0 -> {
        // --help: plain text on stdout (stderr carries only log lines).
        System.out.print(exit.text());
        System.out.flush();
        code = 0;
      }
      case SidecarCommandLine.Exit exit -> {
        LOG.severe("bad arguments: " + exit.text());
        code = exit.code();
      }
      case SidecarCommandLine.Run run when run.mode().equals(SidecarCommandLine.AOT_TRAIN) ->
          // The image build's training run for the AOT cache (sidecar/Dockerfile); never a pod's.
          code = AotTraining.run();
      case SidecarCommandLine.Run run -> code = run(run.mode(), run.config());
    }
    System.exit(code);
  }

  private static int run(String mode, SidecarConfig config) {
    try {
      // --log-level or CAPGATE_LOG_LEVEL, as for the operator.
      JsonLogs.setLevel(
          config.get("log-level").map(LogLevels::parse).orElse(JsonLogs.DEFAULT_LEVEL));
      return mode.equals(SidecarContract.INIT_ARG) ? init(config) : proxy(config);
    } catch (IllegalArgumentException e) {
      LOG.severe("bad arguments: " + e.getMessage());
      return SidecarCommandLine.USAGE;
    }
  }

  private static int init(SidecarConfig config) {
    // The same uid and ports as the sidecar's listeners: the webhook gives both the same variables.
    InterceptionConfig rules =
        new InterceptionConfig(
            SidecarPorts.read(config::setting),
            InterceptionConfig.parsePorts(
                config.get(SidecarContract.INBOUND_PORTS_FLAG.substring(2), "")));
    try {
      // Agents' trust files first: the webhook's pods carry both digests (older pods neither).
      Optional<String> rootsSha256 = config.setting(SidecarContract.ENV_TRUST_ROOTS_SHA256);
      if (rootsSha256.isPresent()) {
        int roots =
            new AgentTrust(
                    Path.of(SidecarContract.TRUST_ROOTS_FILE),
                    rootsSha256.get(),
                    Path.of(SidecarContract.POD_CA_ROOT_FILE),
                    config
                        .setting(SidecarContract.ENV_POD_CA_FINGERPRINT)
                        .orElseThrow(
                            () ->
                                new RulesApplier.InitFailure(
                                    SidecarContract.ENV_POD_CA_FINGERPRINT + " is not set")),
                    Path.of(SidecarContract.TRUST_DIR))
                .write();
        System.out.println(
            "# wrote " + SidecarContract.TRUST_DIR + ": the pod CA and " + roots + " system roots");
      }
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
