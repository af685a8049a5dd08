package dev.capgate.testkit;

/** What a finished command left behind: exit code and everything it printed. */
public record ProcessResult(int exitCode, String stdout, String stderr) {

  public boolean success() {
    return exitCode == 0;
  }

  /** Returns this result if the command succeeded, else throws with both streams in the message. */
  public ProcessResult orThrow() {
    if (!success()) {
      throw new IllegalStateException(
          "command failed with exit code "
              + exitCode
              + "\nstdout:\n"
              + stdout
              + "\nstderr:\n"
              + stderr);
    }
    return this;
  }
}
