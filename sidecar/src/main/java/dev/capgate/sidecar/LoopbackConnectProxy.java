package dev.capgate.sidecar;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * A minimal HTTP CONNECT proxy on loopback that opens every tunnel to one upstream port, whatever
 * name it is asked for. It stands in for the corporate egress proxy where the sidecar runs without
 * iptables: the AOT training run ({@link AotTraining}) and the in-JVM proxy ITs, which share it so
 * that both drive the proxy the same way. Package-private: not a product feature.
 */
final class LoopbackConnectProxy {
  private LoopbackConnectProxy() {}

  /**
   * Starts the proxy on an ephemeral loopback port and returns that port.
   *
   * @param requestLines gets each tunnel's request line ({@code CONNECT host:port HTTP/1.1})
   */
  static int start(Vertx vertx, int upstreamPort, Consumer<String> requestLines) {
    NetClient client = vertx.createNetClient();
    return vertx
        .createNetServer()
        .connectHandler(
            agent -> {
              Buffer head = Buffer.buffer();
              agent.handler(
                  data -> {
                    head.appendBuffer(data);
                    String text = head.toString(StandardCharsets.ISO_8859_1);
                    int end = text.indexOf("\r\n\r\n");
                    if (end < 0) {
                      return;
                    }
                    requestLines.accept(text.substring(0, text.indexOf("\r\n")));
                    agent.handler(null);
                    agent.pause();
                    client
                        .connect(upstreamPort, "127.0.0.1")
                        .onFailure(e -> agent.close())
                        .onSuccess(
                            up ->
                                agent
                                    .write("HTTP/1.1 200 Connection established\r\n\r\n")
                                    .onSuccess(
                                        v -> {
                                          if (head.length() > end + 4) {
                                            up.write(head.getBuffer(end + 4, head.length()));
                                          }
                                          agent.pipeTo(up);
                                          up.pipeTo(agent);
                                        }));
                  });
            })
        .listen(0, "127.0.0.1")
        .await()
        .actualPort();
  }
}
