package dev.capgate.testkit;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * {@code @ExtendWith(RealStackExtension.class)}: injects the shared {@link KubeControlPlane} and
 * {@link OpenBaoServer} into constructors, lifecycle methods and test methods (each started on
 * first use), and when a test fails prints where the component logs are and how they end — the
 * first thing anyone needs to see when a real-component test goes red.
 */
public final class RealStackExtension implements ParameterResolver, TestWatcher {
  private static final int TAIL_LINES = 25;

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    return type == KubeControlPlane.class || type == OpenBaoServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Class<?> type = parameter.getParameter().getType();
    try {
      return type == KubeControlPlane.class ? KubeControlPlane.shared() : OpenBaoServer.shared();
    } catch (RuntimeException e) {
      throw new ParameterResolutionException(
          "could not start " + type.getSimpleName() + " (logs in " + ManagedProcess.logDir() + ")",
          e);
    }
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    System.err.println(report(context.getDisplayName()));
  }

  /** The log directory and the tail of every component log in it. */
  static String report(String testName) {
    Path dir = ManagedProcess.logDir();
    StringBuilder out =
        new StringBuilder("=== ")
            .append(testName)
            .append(" failed; component logs in ")
            .append(dir)
            .append('\n');
    List<Path> logs = ManagedProcess.logsOfThisJvm();
    if (logs.isEmpty()) {
      out.append("(no component was started in this JVM)\n");
    }
    for (Path log : logs) {
      out.append("--- last ")
          .append(TAIL_LINES)
          .append(" lines of ")
          .append(log.getFileName())
          .append(" ---\n")
          .append(ManagedProcess.tail(log, TAIL_LINES))
          .append('\n');
    }
    return out.toString();
  }
}
