package dev.capgate.sidecar.tls;

import io.netty.handler.ssl.ApplicationProtocolConfig;

/** What a TLS test's peer offers by ALPN (a client) or accepts (the sidecar's sides), in order. */
public final class AlpnOffer {
  private AlpnOffer() {}

  public static ApplicationProtocolConfig of(String... protocols) {
    return new ApplicationProtocolConfig(
        ApplicationProtocolConfig.Protocol.ALPN,
        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
        protocols);
  }
}
