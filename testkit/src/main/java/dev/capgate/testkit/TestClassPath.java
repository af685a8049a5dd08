package dev.capgate.testkit;

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
}
