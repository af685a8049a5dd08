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
  private Main() {}

  public static void main(String[] args) {
    // Library logs (Fabric8, through java.util.logging) would interleave with the output: warnings
    // and errors only.
    Logger.getLogger("").setLevel(Level.WARNING);
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
      return "the Kubernetes API" + status + ": " + message;
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
