package dev.capgate.cli.command;

/** The plugin's exit codes (cli/README.md, "Exit codes"). */
public final class ExitCodes {
  /** Done: the session is valid, the request allowed, the revocation or recovery confirmed. */
  public static final int OK = 0;

  /** The answer is no: lint found violations, the request is denied, the recovery failed. */
  public static final int FAILED = 1;

  /** The operator did not confirm in time (revoke, recover). */
  public static final int TIMEOUT = 2;

  /** No such session, request id or file. */
  public static final int NOT_FOUND = 3;

  /** The API server or a file could not be used (connection, permission, I/O). */
  public static final int ERROR = 4;

  /** Wrong command line: unknown flag, missing argument (EX_USAGE of sysexits.h). */
  public static final int USAGE = 64;

  private ExitCodes() {}
}
