package dev.capgate.cli;

import dev.capgate.cli.command.CapgateCommand;
import dev.capgate.cli.command.ExitCodes;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.PrintWriter;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;

/** {@code kubectl capgate}: the plugin's entry point (the launcher script runs this jar). */
public final class Main {
  /**
   * Fabric8 warns on every use of a v1alpha1 resource; the plugin knows its API's version. Held in
   * a field: java.util.logging keeps loggers weakly, and a collected one forgets its level.
   */
  private static final Logger QUIET =
      Logger.getLogger("io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils");

  private Main() {}

  public static void main(String[] args) {
    // Library logs (Fabric8, through java.util.logging) would interleave with the output: warnings
    // and errors only.
    Logger.getLogger("").setLevel(Level.WARNING);
    QUIET.setLevel(Level.SEVERE);
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int exit = run(args, out, err);
    // Autoflush covers println only: a table written with print must not be lost at exit.
    out.flush();
    err.flush();
    System.exit(exit);
  }

  /** Runs one command line with the given streams; returns the exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return commandLine(out, err).execute(args);
  }

  /** The configured command tree (also what the tests drive). */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new CapgateCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler(
        (e, a) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("error: " + e.getMessage());
          c.getErr().println("See '" + c.getCommandSpec().qualifiedName() + " --help'.");
          c.getErr().flush();
          return ExitCodes.USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          c.getErr().println("error: " + describe(e));
          c.getErr().flush();
          return ExitCodes.ERROR;
        });
    return cl;
  }

  /** What failed, without a stack trace; Kubernetes errors with their status and message. */
  static String describe(Exception e) {
    if (e instanceof KubernetesClientException k) {
      String status = k.getCode() > 0 ? " (HTTP " + k.getCode() + ")" : "";
      String message =
          k.getStatus() != null && k.getStatus().getMessage() != null
              ? k.getStatus().getMessage()
              : k.getMessage();
      // Fabric8's own message names the operation only; its causes say what went wrong.
      java.util.List<String> causes = new java.util.ArrayList<>();
      for (Throwable c = k.getCause(); c != null && causes.size() < 4; c = c.getCause()) {
        String m = c.getMessage();
        if (m == null || !message.contains(m)) {
          causes.add(c.getClass().getSimpleName() + (m == null ? "" : ": " + m));
        }
      }
      if (!causes.isEmpty()) {
        message = message + " (" + String.join("; ", causes) + ")";
      }
      return "the Kubernetes API" + status + ": " + message;
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
