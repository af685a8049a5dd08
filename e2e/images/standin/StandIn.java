// A stand-in for the sidecar/operator jars, to prove the image path (Dockerfile, base image, AOT
// cache, uid, iptables, kubelet) before or without the real ones: e2e/images/standin/build.sh.
// Modes, like the sidecar's: init (iptables-restore of a tiny rule set), proxy (an HTTP "ok" on
// :14001), aot-train (the same start-up path, then exit) — anything else prints its identity.
package dev.capgate.standin;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public final class StandIn {
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "";
        long t0 = ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);
        switch (mode) {
            case "init" -> {
                String rules = "*nat\n:CAPGATE_STANDIN - [0:0]\n-A CAPGATE_STANDIN -p tcp -j RETURN\nCOMMIT\n";
                Process p = new ProcessBuilder("iptables-restore", "--noflush")
                        .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                p.getOutputStream().write(rules.getBytes(StandardCharsets.US_ASCII));
                p.getOutputStream().close();
                int rc = p.waitFor();
                System.out.println("{\"mode\":\"init\",\"iptables-restore\":" + rc + ",\"uid\":\"" + uid() + "\"}");
                System.exit(rc);
            }
            case "proxy", "aot-train" -> {
                try (ServerSocket server = new ServerSocket()) {
                    server.bind(new InetSocketAddress(mode.equals("proxy") ? 14001 : 0));
                    System.out.println("{\"mode\":\"" + mode + "\",\"listening\":" + server.getLocalPort()
                            + ",\"startMillis\":" + (System.currentTimeMillis() - t0) + ",\"uid\":\"" + uid()
                            + "\",\"lib\":\"" + Lib.NAME + "\"}");
                    if (mode.equals("aot-train")) {
                        try (Socket c = new Socket("127.0.0.1", server.getLocalPort()); Socket s = server.accept()) {
                            serve(s);
                        }
                        return;
                    }
                    while (true) {
                        try (Socket s = server.accept()) { serve(s); } catch (IOException e) { /* next */ }
                    }
                }
            }
            default -> System.out.println("capgate stand-in " + Runtime.version() + " uid " + uid());
        }
    }

    private static void serve(Socket s) throws IOException {
        byte[] body = "standin ok\n".getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().write(body);
    }

    private static String uid() {
        try {
            return java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("Uid:")).findFirst().orElse("?").split("\\s+")[1];
        } catch (IOException e) {
            return "?";
        }
    }
}
