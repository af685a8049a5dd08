package dev.capgate.sidecar.netns;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.dns.DatagramDnsQuery;
import io.netty.handler.codec.dns.DatagramDnsQueryDecoder;
import io.netty.handler.codec.dns.DatagramDnsResponse;
import io.netty.handler.codec.dns.DatagramDnsResponseEncoder;
import io.netty.handler.codec.dns.DefaultDnsRawRecord;
import io.netty.handler.codec.dns.DnsQuestion;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * The "internet" of the tests, run inside the upstream network namespace: HTTPS echo servers
 * (HTTP/1.1 and h2, own test CA) on 443 and 8443, a plaintext echo on 80, a DNS server that answers
 * every *.test name with the upstream address, and the TCP end of the Vault bridge. Every request
 * is printed as one JSON line: that is what "the upstream saw".
 *
 * <p>Also, for the issue-8 tests: server-sent events ({@code .../events}), a streaming byte counter
 * for uploads ({@code .../count}), an answer after a silence ({@code .../slow?ms=N}), a WebSocket
 * echo ({@code .../ws}), two hard hosts (8444: a certificate from a CA nobody trusts; 8445: mutual
 * TLS required) when their certificates are in the directory, and an HTTP CONNECT proxy on 3128
 * ({@link ConnectProxy}).
 *
 * <p>Usage: {@code UpstreamServers <dir with server.crt/server.key> <vault-listen>
 * <vault-unix-socket>}
 */
public final class UpstreamServers {
  public static final String V4 = "198.18.0.2";
  public static final String V6 = "fd00:198:18::2";

  private static Vertx vertx;

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    vertx = Vertx.vertx();
    PemKeyCertOptions cert =
        new PemKeyCertOptions()
            .setCertPath(dir.resolve("server.crt").toString())
            .setKeyPath(dir.resolve("server.key").toString());
    // "::" is dual-stack on Linux: one listener per port serves IPv4 and IPv6.
    for (String host : new String[] {"::"}) {
      for (int port : new int[] {443, 8443}) {
        HttpServerOptions options =
            new HttpServerOptions()
                .setSsl(true)
                .setUseAlpn(true)
                .setKeyCertOptions(cert)
                .setHost(host)
                .setPort(port);
        listen(vertx, options);
      }
      listen(vertx, new HttpServerOptions().setHost(host).setPort(80));
    }
    if (java.nio.file.Files.exists(dir.resolve("untrusted-server.crt"))) {
      // A host whose certificate the sidecar cannot verify (think: a pinned private CA).
      listen(
          vertx,
          new HttpServerOptions()
              .setSsl(true)
              .setHost("::")
              .setPort(8444)
              .setKeyCertOptions(
                  new PemKeyCertOptions()
                      .setCertPath(dir.resolve("untrusted-server.crt").toString())
                      .setKeyPath(dir.resolve("untrusted-server.key").toString())));
    }
    if (java.nio.file.Files.exists(dir.resolve("client-ca.crt"))) {
      // A host that wants a client certificate (mutual TLS): re-originated TLS cannot give it one.
      listen(
          vertx,
          new HttpServerOptions()
              .setSsl(true)
              .setUseAlpn(true)
              .setHost("::")
              .setPort(8445)
              .setKeyCertOptions(cert)
              .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED)
              .setTrustOptions(
                  new io.vertx.core.net.PemTrustOptions()
                      .addCertPath(dir.resolve("client-ca.crt").toString())));
    }
    ConnectProxy.start("::");
    RawRequestRecorder.start(vertx, cert); // request trailers as they arrive (issue 11)
    // Raw TCP echo, for rules that allow a CIDR and port rather than a host name.
    vertx
        .createNetServer()
        .connectHandler(socket -> socket.handler(socket::write))
        .listen(9000, "::")
        .toCompletionStage()
        .toCompletableFuture()
        .get();
    startDns();
    // Pairs of <listen> <unix socket>: the Vault bridge, then any others (Keycloak, ...).
    for (int i = 1; i + 1 < args.length; i += 2) {
      UnixSocketBridge.start(UnixSocketBridge.parse(args[i]), UnixSocketBridge.parse(args[i + 1]));
    }
    System.out.println("{\"ready\":true}");
    System.out.flush();
    Thread.currentThread().join();
  }

  private static void listen(Vertx vertx, HttpServerOptions options) throws Exception {
    vertx
        .createHttpServer(options)
        .requestHandler(UpstreamServers::echo)
        .listen()
        .toCompletionStage()
        .toCompletableFuture()
        .get();
  }

  private static void echo(HttpServerRequest request) {
    if (EchoForms.handles(request)) {
      EchoForms.handle(request);
      return;
    }
    if (request.path().endsWith("/download")) {
      download(request);
      return;
    }
    if (request.path().endsWith("/events")) {
      events(request);
      return;
    }
    if (request.path().endsWith("/count")) {
      count(request);
      return;
    }
    if (request.path().endsWith("/slow")) {
      slow(request);
      return;
    }
    if (request.path().endsWith("/ws") && request.canUpgradeToWebSocket()) {
      webSocket(request);
      return;
    }
    request
        .body()
        .onComplete(
            body -> {
              JsonArray headers = new JsonArray();
              request
                  .headers()
                  .forEach(
                      e ->
                          headers.add(
                              new JsonArray().add(e.getKey().toLowerCase()).add(e.getValue())));
              JsonObject seen =
                  new JsonObject()
                      .put("port", request.localAddress().port())
                      .put("connection", request.connection().remoteAddress().toString())
                      .put("version", request.version().name())
                      .put("method", request.method().name())
                      .put("uri", request.uri())
                      .put(
                          "authority",
                          request.authority() == null ? null : request.authority().toString())
                      .put("headers", headers)
                      .put("bodyLength", body.succeeded() ? body.result().length() : -1);
              synchronized (System.out) {
                System.out.println(new JsonObject().put("upstreamSaw", seen).encode());
                System.out.flush();
              }
              request
                  .response()
                  .putHeader("content-type", "application/json")
                  .end(seen.encodePrettily());
            });
  }

  static JsonObject seen(HttpServerRequest request) {
    JsonArray headers = new JsonArray();
    request
        .headers()
        .forEach(e -> headers.add(new JsonArray().add(e.getKey().toLowerCase()).add(e.getValue())));
    return new JsonObject()
        .put("port", request.localAddress().port())
        .put("connection", request.connection().remoteAddress().toString())
        .put("version", request.version().name())
        .put("method", request.method().name())
        .put("uri", request.uri())
        .put("headers", headers);
  }

  static void print(JsonObject line) {
    synchronized (System.out) {
      System.out.println(line.encode());
      System.out.flush();
    }
  }

  /** Server-sent events: one every 200 ms for 2 s (10 in all), each flushed as it is written. */
  private static void events(HttpServerRequest request) {
    print(new JsonObject().put("upstreamSaw", seen(request)));
    var response =
        request
            .response()
            .setChunked(true)
            .putHeader("content-type", "text/event-stream")
            .putHeader("cache-control", "no-cache");
    response.write(": stream open\n\n");
    int[] n = {0};
    vertx.setPeriodic(
        200,
        200,
        timer -> {
          n[0]++;
          response.write("id: " + n[0] + "\ndata: {\"event\":" + n[0] + "}\n\n");
          if (n[0] == 10) {
            vertx.cancelTimer(timer);
            response.end();
          }
        });
  }

  /**
   * Answers after {@code ms} milliseconds of silence (head and body at once): an upstream slow to
   * answer, whose agent connection sees no I/O meanwhile.
   */
  private static void slow(HttpServerRequest request) {
    JsonObject seen = seen(request);
    print(new JsonObject().put("upstreamSaw", seen));
    long ms = Long.parseLong(request.getParam("ms", "1000"));
    vertx.setTimer(
        ms,
        t -> {
          if (!request.response().closed()) {
            request.response().putHeader("content-type", "application/json").end(seen.encode());
          }
        });
  }

  /** Counts an upload as it streams (the echo would hold it whole); answers with the count. */
  private static void count(HttpServerRequest request) {
    JsonObject seen = seen(request);
    long[] total = {0};
    request.handler(buffer -> total[0] += buffer.length());
    request.endHandler(
        v -> {
          seen.put("bodyLength", total[0]);
          print(new JsonObject().put("upstreamSaw", seen));
          request.response().putHeader("content-type", "application/json").end(seen.encode());
        });
  }

  /**
   * A WebSocket echo. Its first message repeats the upgrade request's Authorization header (an
   * upstream that echoes the credential: the agent must read it masked), then every text message
   * comes back as "echo: ...".
   */
  private static void webSocket(HttpServerRequest request) {
    JsonObject seen = seen(request);
    String authorization = request.getHeader("authorization");
    request
        .toWebSocket()
        .onSuccess(
            ws -> {
              print(new JsonObject().put("upstreamSaw", seen.put("websocket", true)));
              ws.writeTextMessage("authorization=" + authorization);
              ws.textMessageHandler(text -> ws.writeTextMessage("echo: " + text));
            })
        .onFailure(
            e -> print(new JsonObject().put("websocketFailed", String.valueOf(e.getMessage()))));
  }

  /** Streams {@code bytes} zero bytes in 64 KiB chunks, respecting back-pressure. */
  private static void download(HttpServerRequest request) {
    long total = Long.parseLong(request.getParam("bytes", "0"));
    var response =
        request.response().setChunked(true).putHeader("content-type", "application/octet-stream");
    io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer(new byte[64 * 1024]);
    long[] sent = {0};
    Runnable[] pump = new Runnable[1];
    pump[0] =
        () -> {
          while (sent[0] < total && !response.writeQueueFull()) {
            int n = (int) Math.min(chunk.length(), total - sent[0]);
            response.write(n == chunk.length() ? chunk : chunk.getBuffer(0, n));
            sent[0] += n;
          }
          if (sent[0] >= total) {
            response.end();
          } else {
            response.drainHandler(v -> pump[0].run());
          }
        };
    pump[0].run();
  }

  /**
   * Answers A queries for *.test with the upstream address, AAAA with its IPv6 one, NXDOMAIN
   * otherwise.
   */
  private static void startDns() throws Exception {
    new Bootstrap()
        .group(new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()))
        .channel(NioDatagramChannel.class)
        .handler(
            new ChannelInitializer<DatagramChannel>() {
              @Override
              protected void initChannel(DatagramChannel ch) {
                ch.pipeline()
                    .addLast(
                        new DatagramDnsQueryDecoder(),
                        new DatagramDnsResponseEncoder(),
                        new SimpleChannelInboundHandler<DatagramDnsQuery>() {
                          @Override
                          protected void channelRead0(
                              ChannelHandlerContext ctx, DatagramDnsQuery query) throws Exception {
                            DnsQuestion q = query.recordAt(DnsSection.QUESTION);
                            boolean known = q.name().endsWith(".test.");
                            DatagramDnsResponse r =
                                new DatagramDnsResponse(
                                    query.recipient(),
                                    query.sender(),
                                    query.id(),
                                    query.opCode(),
                                    known ? DnsResponseCode.NOERROR : DnsResponseCode.NXDOMAIN);
                            r.setRecursionAvailable(true);
                            r.addRecord(DnsSection.QUESTION, q);
                            if (known && q.type() == DnsRecordType.A) {
                              r.addRecord(
                                  DnsSection.ANSWER,
                                  new DefaultDnsRawRecord(
                                      q.name(),
                                      DnsRecordType.A,
                                      30,
                                      Unpooled.wrappedBuffer(
                                          java.net.InetAddress.getByName(V4).getAddress())));
                            }
                            System.out.println(new JsonObject().put("dnsSaw", q.name()).encode());
                            ctx.writeAndFlush(r);
                          }
                        });
              }
            })
        .bind(new InetSocketAddress(V4, 53))
        .sync();
  }
}
