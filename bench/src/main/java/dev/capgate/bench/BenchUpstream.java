package dev.capgate.bench;

import dev.capgate.sidecar.netns.UnixSocketBridge;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The upstream of every data-plane row, run in the upstream network namespace: HTTPS on 443 (ALPN
 * h2 and http/1.1, its own test CA) answering every request with the same 1 KiB body, and a
 * plaintext {@code /stats} on 8080 that counts requests and how many carried the injected
 * credential header: the bench checks that every proxied request had it.
 *
 * <p>Usage: {@code BenchUpstream <server.crt> <server.key> <header name> <event loops> [<vault
 * listen> <vault unix socket>]}: with the last two it also carries the sidecar's Vault traffic to
 * the real OpenBao (the sidecar test harness's {@link UnixSocketBridge}).
 */
public final class BenchUpstream {
  static final int BODY_BYTES = 1024;

  private BenchUpstream() {}

  /**
   * The command line that runs it on this class path, the bench's common JVM flags first.
   *
   * @param jvmFlags heap and JIT flags for this run
   * @param pki the directory holding {@code server.crt} and {@code server.key}
   * @param vault none, or the vault listen address and unix socket (see the usage above)
   */
  static List<String> command(List<String> jvmFlags, Path pki, int eventLoops, String... vault) {
    List<String> command =
        new ArrayList<>(
            List.of(BenchPod.JAVA, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"));
    command.addAll(jvmFlags);
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            BenchUpstream.class.getName(),
            pki.resolve("server.crt").toString(),
            pki.resolve("server.key").toString(),
            ProxyUnderTest.HEADER,
            Integer.toString(eventLoops)));
    command.addAll(List.of(vault));
    return command;
  }

  public static void main(String[] args) throws Exception {
    String cert = args[0];
    String key = args[1];
    String header = args[2];
    int loops = Integer.parseInt(args[3]);
    Vertx vertx =
        Vertx.vertx(new VertxOptions().setEventLoopPoolSize(loops).setPreferNativeTransport(true));
    Buffer body = Buffer.buffer("x".repeat(BODY_BYTES - 1) + "\n");
    LongAdder requests = new LongAdder();
    LongAdder withHeader = new LongAdder();
    HttpServerOptions tls =
        new HttpServerOptions()
            .setSsl(true)
            .setUseAlpn(true)
            .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert).setKeyPath(key))
            .setHost("::")
            .setPort(443)
            .setTcpNoDelay(true)
            .setIdleTimeout(0);
    // One server instance per event loop: Vert.x spreads the accepted connections over them.
    for (int i = 0; i < loops; i++) {
      vertx
          .createHttpServer(tls)
          .requestHandler(
              request -> {
                requests.increment();
                if (request.headers().contains(header)) {
                  withHeader.increment();
                }
                request.response().putHeader("content-type", "text/plain").end(body);
              })
          .listen()
          .toCompletionStage()
          .toCompletableFuture()
          .get();
    }
    vertx
        .createHttpServer(new HttpServerOptions().setHost("::").setPort(8080))
        .requestHandler(
            (HttpServerRequest r) ->
                r.response()
                    .putHeader("content-type", "application/json")
                    .end(
                        "{\"requests\":"
                            + requests.sum()
                            + ",\"withHeader\":"
                            + withHeader.sum()
                            + "}"))
        .listen()
        .toCompletionStage()
        .toCompletableFuture()
        .get();
    if (args.length >= 6) {
      UnixSocketBridge.start(UnixSocketBridge.parse(args[4]), UnixSocketBridge.parse(args[5]));
    }
    System.out.println("{\"ready\":true}");
    System.out.flush();
    Thread.currentThread().join();
  }
}
