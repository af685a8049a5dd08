package dev.capgate.bench;

import dev.capgate.sidecar.netns.UnixSocketBridge;

/**
 * {@code Bridge <listen> <target>}: the sidecar test harness's {@link UnixSocketBridge} as a
 * process, run inside a pod namespace so that the sidecar reaches the real API server (on the
 * host's loopback) at the very address its kubeconfig names, 127.0.0.1:&lt;port&gt;, through a Unix
 * socket that the bench serves.
 */
public final class Bridge {
  private Bridge() {}

  public static void main(String[] args) throws Exception {
    UnixSocketBridge.start(UnixSocketBridge.parse(args[0]), UnixSocketBridge.parse(args[1]));
    System.out.println("{\"ready\":true}");
    System.out.flush();
    Thread.currentThread().join();
  }
}
