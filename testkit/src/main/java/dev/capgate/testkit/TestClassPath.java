package dev.capgate.testkit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The class path of the running test, for tests that start the code under test as a process. */
public final class TestClassPath {
  private TestClassPath() {}

  /**
   * Surefire and Failsafe put the test's class path in {@code surefire.test.class.path} (their
   * forked JVM's own {@code java.class.path} may be a manifest-only jar); elsewhere, this JVM's.
   */
  public static String get() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }

  /**
   * {@code java -XX:TieredStopAtLevel=1 [jvmOptions] -cp <the test's class path> mainClass}: a
   * {@code Main} of the code under test as a process of its own, on this JVM's Java (C1 only: such
   * processes live seconds). A new, mutable list: callers add the program's arguments.
   */
  public static List<String> javaCommand(String mainClass, String... jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", get(), mainClass));
    return command;
  }
}
