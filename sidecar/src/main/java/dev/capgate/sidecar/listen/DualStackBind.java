package dev.capgate.sidecar.listen;

import io.netty.bootstrap.AbstractBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * Binds a listening socket on every address of the pod: {@code [::]:port} (dual stack: IPv4 peers
 * arrive as v4-mapped addresses), or {@code 0.0.0.0:port} on a kernel booted without IPv6. The
 * transparent listener and the DNS proxy's TCP side bind the same way.
 */
public final class DualStackBind {
  private DualStackBind() {}

  /**
   * @param bound completed once a socket listens (after {@code listening} has seen it), or failed
   *     with the IPv4 bind's cause when neither family could bind
   * @param listening told the channel that listens
   */
  public static void bind(
      AbstractBootstrap<?, ?> bootstrap,
      int port,
      Promise<Void> bound,
      Consumer<Channel> listening) {
    bootstrap
        .bind(new InetSocketAddress("::", port))
        .addListener(
            (ChannelFuture v6) -> {
              if (v6.isSuccess()) {
                listening.accept(v6.channel());
                bound.trySuccess(null);
                return;
              }
              bootstrap
                  .bind(new InetSocketAddress("0.0.0.0", port))
                  .addListener(
                      (ChannelFuture v4) -> {
                        if (v4.isSuccess()) {
                          listening.accept(v4.channel());
                          bound.trySuccess(null);
                        } else {
                          bound.tryFailure(v4.cause());
                        }
                      });
            });
  }
}
