package dev.capgate.testkit;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The {@code bao server} process with a config file. "Ready" here only means the listener answers
 * /v1/sys/health (any status: uninitialized and sealed servers answer too); initializing and
 * unsealing are {@link OpenBaoServer}'s business.
 */
public final class OpenBaoProcess extends ManagedProcess {
  private final Path configFile;
  private final String address;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  public OpenBaoProcess(Path configFile, String address) {
    super("openbao", Duration.ofSeconds(60));
    this.configFile = configFile;
    this.address = address;
  }

  @Override
  protected List<String> command() {
    return List.of(Tools.bin("bao").toString(), "server", "-config=" + configFile);
  }

  @Override
  protected void customize(ProcessBuilder builder) {
    // A developer's BAO_ADDR / VAULT_TOKEN etc. must not leak into the server under test.
    builder.environment().keySet().removeIf(k -> k.startsWith("BAO_") || k.startsWith("VAULT_"));
  }

  @Override
  protected boolean ready() throws Exception {
    HttpResponse<Void> response =
        http.send(
            HttpRequest.newBuilder(URI.create(address + "/v1/sys/health"))
                .timeout(Duration.ofSeconds(2))
                .build(),
            HttpResponse.BodyHandlers.discarding());
    return response.statusCode() > 0;
  }
}
