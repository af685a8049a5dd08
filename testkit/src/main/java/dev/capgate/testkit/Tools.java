package dev.capgate.testkit;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the real binaries live ({@code make tools} builds them).
 *
 * <p>Resolution order: system property {@code capgate.tools} (failsafe sets it from the parent
 * pom), then env {@code CAPGATE_TOOLS}, then {@code ~/.cache/capgate/tools}. A missing binary is an
 * error, never a reason to skip: a test that silently skips proves nothing.
 */
public final class Tools {
  private Tools() {}

  public static Path home() {
    String prop = System.getProperty("capgate.tools");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv("CAPGATE_TOOLS");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "capgate", "tools");
  }

  /** The executable {@code name} in {@code home()/bin}; throws with the fix if it is not there. */
  public static Path bin(String name) {
    Path dir = home().resolve("bin");
    Path bin = dir.resolve(name);
    if (!Files.isRegularFile(bin) || !Files.isExecutable(bin)) {
      throw new IllegalStateException(
          name
              + " not found in "
              + dir
              + " — run `make tools` (or hack/tools.sh);"
              + " set -Dcapgate.tools or CAPGATE_TOOLS if the tools live elsewhere");
    }
    return bin;
  }

  /**
   * A program of the AWS venv ({@code <tools>/aws/bin/<name>}: {@code aws}, or {@code python} with
   * boto3); throws with the fix if it is not there.
   */
  public static Path aws(String name) {
    Path bin = home().resolve("aws").resolve("bin").resolve(name);
    if (!Files.isExecutable(bin)) {
      throw new IllegalStateException(
          name
              + " not found in "
              + bin.getParent()
              + " — run `make tools` (or hack/tools.sh), which installs the aws CLI and boto3 there;"
              + " set -Dcapgate.tools or CAPGATE_TOOLS if the tools live elsewhere");
    }
    return bin;
  }

  /**
   * A program of the MCP venv ({@code $TOOLS/mcp/bin}): the official MCP Python SDK ({@code mcp}),
   * client and server of McpToolsIT.
   */
  public static Path mcp(String name) {
    Path bin = home().resolve("mcp").resolve("bin").resolve(name);
    Path sdk = home().resolve("stamps").resolve("mcp");
    if (!Files.isExecutable(bin) || !Files.exists(sdk)) {
      throw new IllegalStateException(
          "the MCP Python SDK is not installed in "
              + bin.getParent().getParent()
              + " — run `make tools` (or hack/tools.sh), which installs the pinned `mcp` package from"
              + " PyPI into that venv; set -Dcapgate.tools or CAPGATE_TOOLS if the tools live elsewhere");
    }
    return bin;
  }
}
