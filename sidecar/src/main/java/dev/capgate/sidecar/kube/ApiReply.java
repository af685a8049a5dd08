package dev.capgate.sidecar.kube;

import io.vertx.core.buffer.Buffer;

/** One answer of the API server: its status and its (JSON) body. */
public record ApiReply(int status, Buffer body) {
  public boolean ok() {
    return status >= 200 && status < 300;
  }
}
