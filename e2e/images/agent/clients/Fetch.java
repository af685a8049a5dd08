import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The Java client of the client matrix (e2e ClientMatrixE2E), run as a single source file:
 * {@code java Fetch.java [-h1] URL}. java.net.http.HttpClient with its defaults (HTTP/2 by ALPN);
 * the truststore comes from JAVA_TOOL_OPTIONS, set by the Capgate webhook. Prints
 * "proto=<version> status=<code>" and the body's start.
 */
public class Fetch {
  public static void main(String[] args) throws Exception {
    boolean h1 = args[0].equals("-h1");
    String url = h1 ? args[1] : args[0];
    HttpClient.Builder builder = HttpClient.newBuilder();
    if (h1) {
      builder.version(HttpClient.Version.HTTP_1_1);
    }
    try (HttpClient client = builder.build()) {
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
          HttpResponse.BodyHandlers.ofString());
      String body = response.body();
      System.out.println("proto=" + response.version() + " status=" + response.statusCode());
      System.out.println(body.substring(0, Math.min(400, body.length())));
    } catch (java.io.IOException e) {
      System.out.println("error: " + e);
      System.exit(2);
    }
  }
}
