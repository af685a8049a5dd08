package dev.capgate.sidecar.netns;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A corporate egress proxy in miniature, for the upstream namespace: HTTP {@code CONNECT host:port}
 * only, Basic proxy credentials required, {@code *.test} names resolved to the upstream address,
 * tunnels to port 8443 refused (403, the corporate policy of this test). Each CONNECT is printed as
 * one JSON line ({@code proxySaw}): what went through the proxy.
 */
public final class ConnectProxy {
  public static final int PORT = 3128;
  public static final String USER = "capgate-svc";
  public static final String PASSWORD = "proxy-pass-7d1e";

  private ConnectProxy() {}

  public static void start(String listenHost) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(listenHost, PORT), 64);
    Thread.ofVirtual()
        .name("connect-proxy")
        .start(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket client = server.accept();
                  Thread.ofVirtual().start(() -> serve(client));
                } catch (IOException e) {
                  return;
                }
              }
            });
  }

  private static void serve(Socket client) {
    try (client) {
      client.setSoTimeout(30_000);
      String head = readHead(client.getInputStream());
      String[] lines = head.split("\r\n");
      String[] requestLine = lines[0].split(" ");
      String expected =
          "Basic "
              + Base64.getEncoder()
                  .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
      boolean authorized = false;
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0
            && lines[i].substring(0, colon).equalsIgnoreCase("proxy-authorization")
            && lines[i].substring(colon + 1).strip().equals(expected)) {
          authorized = true;
        }
      }
      String target = requestLine.length > 1 ? requestLine[1] : "";
      int status;
      if (!requestLine[0].equals("CONNECT")) {
        status = 405;
      } else if (!authorized) {
        status = 407;
      } else if (target.endsWith(":8443")) {
        status = 403;
      } else {
        status = 200;
      }
      log(target, authorized, status);
      OutputStream toClient = client.getOutputStream();
      if (status != 200) {
        String reason =
            switch (status) {
              case 407 ->
                  "Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"";
              case 403 -> "Forbidden";
              default -> "Method Not Allowed";
            };
        toClient.write(
            ("HTTP/1.1 "
                    + status
                    + " "
                    + reason
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        toClient.flush();
        return;
      }
      int colon = target.lastIndexOf(':');
      String host = target.substring(0, colon).replace("[", "").replace("]", "");
      int port = Integer.parseInt(target.substring(colon + 1));
      InetAddress address =
          host.endsWith(".test")
              ? InetAddress.getByName(UpstreamServers.V4)
              : InetAddress.getByName(host);
      try (Socket origin = new Socket(address, port)) {
        client.setSoTimeout(0);
        toClient.write(
            "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
        toClient.flush();
        Thread up = Thread.ofVirtual().start(() -> pipe(client, origin));
        pipe(origin, client);
        up.join();
      }
    } catch (IOException | RuntimeException e) {
      // the client or the origin went away
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void pipe(Socket from, Socket to) {
    try {
      from.getInputStream().transferTo(to.getOutputStream());
      to.shutdownOutput();
    } catch (IOException e) {
      try {
        to.close();
        from.close();
      } catch (IOException ignored) {
        // closed already
      }
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int b = in.read(); // byte by byte: nothing after the head may be consumed here
      if (b < 0) {
        throw new IOException("closed before the end of the request head");
      }
      head.write(b);
      matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
      if (head.size() > 16384) {
        throw new IOException("request head too large");
      }
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  private static void log(String target, boolean authorized, int status) {
    synchronized (System.out) {
      System.out.println(
          new JsonObject()
              .put(
                  "proxySaw",
                  new JsonObject()
                      .put("target", target)
                      .put("authorized", authorized)
                      .put("status", status))
              .encode());
      System.out.flush();
    }
  }
}
