package dev.capgate.sidecar.kube;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.parsetools.RecordParser;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The few API-server calls the sidecar makes (a GET, a watch, a JSON merge patch, a create) on the
 * Vert.x HTTP client the data plane already loads, instead of a general Kubernetes client: the
 * sidecar reads one object and writes one ConfigMap, and a general client (Fabric8: its model, its
 * HTTP client, YAML) was about a third of the classes a sidecar loaded.
 *
 * <p>TLS trusts the cluster CA alone and verifies the host name; the bearer token is re-read from
 * its file for every request, on the caller's thread (callers are virtual threads: no file I/O on
 * an event loop). The token never reaches a log line or an exception message. Calls return Vert.x
 * futures completed on an event loop; a watch reports to a {@link WatchStream}.
 */
public final class ApiClient implements AutoCloseable {
  /** Larger than any legal AgentSession (the schema's maxima are a few MiB of JSON). */
  private static final int MAX_EVENT_BYTES = 16 * 1024 * 1024;

  private final ApiServer server;
  private final HttpClientAgent http;
  private final Duration requestTimeout;

  public ApiClient(
      Vertx vertx, ApiServer server, Duration connectTimeout, Duration requestTimeout) {
    this.server = server;
    this.requestTimeout = requestTimeout;
    HttpClientOptions options =
        new HttpClientOptions()
            .setName("capgate-apiserver")
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setConnectTimeout((int) connectTimeout.toMillis())
            .setKeepAlive(true)
            .setSsl(true)
            .setVerifyHost(true)
            .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(server.caPem())));
    // A watch holds one connection; GETs and patches share the others.
    this.http = vertx.createHttpClient(options, new PoolOptions().setHttp1MaxSize(3));
  }

  /** GET {@code path}; any status is an answer, only transport failures fail the future. */
  public Future<ApiReply> get(String path) {
    return call(HttpMethod.GET, path, null);
  }

  /** PATCH {@code path} with a JSON merge patch (RFC 7396: null removes a key). */
  public Future<ApiReply> mergePatch(String path, String json) {
    return call(HttpMethod.PATCH, path, json, "application/merge-patch+json");
  }

  /** POST {@code json} to {@code path}: creates an object (an AgentApproval). */
  public Future<ApiReply> create(String path, String json) {
    return call(HttpMethod.POST, path, json, "application/json");
  }

  private Future<ApiReply> call(HttpMethod method, String path, String body) {
    return call(method, path, body, null);
  }

  private Future<ApiReply> call(HttpMethod method, String path, String body, String type) {
    RequestOptions options = options(method, path).setTimeout(requestTimeout.toMillis());
    if (body != null) {
      options.putHeader("Content-Type", type);
    }
    return http.request(options)
        .compose(request -> body == null ? request.send() : request.send(body))
        .compose(
            response -> response.body().map(bytes -> new ApiReply(response.statusCode(), bytes)));
  }

  /**
   * Starts a watch ({@code path} carries {@code watch=true} and its query). The connection is
   * closed when nothing arrives for {@code idle} (a half-open connection would otherwise look like
   * a quiet watch forever); the caller then simply watches again.
   *
   * @return cancels the watch; {@link WatchStream#closed} is then not called any more
   */
  public Runnable watch(String path, Duration idle, WatchStream stream) {
    AtomicBoolean over = new AtomicBoolean();
    AtomicReference<HttpClientRequest> current = new AtomicReference<>();
    RequestOptions options = options(HttpMethod.GET, path).setIdleTimeout(idle.toMillis());
    http.request(options)
        .compose(
            request -> {
              current.set(request);
              if (over.get()) {
                request.reset();
              }
              return request.send();
            })
        .onSuccess(
            response -> {
              if (response.statusCode() != 200) {
                response
                    .body()
                    .onComplete(
                        ignored -> {
                          if (over.compareAndSet(false, true)) {
                            stream.closed(
                                response.statusCode(), new ApiException(response.statusCode()));
                          }
                        });
                return;
              }
              stream.opened();
              RecordParser lines =
                  RecordParser.newDelimited(
                          "\n",
                          line -> {
                            if (!over.get() && line.length() > 0) {
                              stream.event(line);
                            }
                          })
                      .maxRecordSize(MAX_EVENT_BYTES);
              lines.exceptionHandler(
                  e -> {
                    if (over.compareAndSet(false, true)) {
                      response.request().reset();
                      stream.closed(0, e);
                    }
                  });
              response.handler(lines);
              response.endHandler(
                  v -> {
                    if (over.compareAndSet(false, true)) {
                      stream.closed(0, null);
                    }
                  });
              response.exceptionHandler(
                  e -> {
                    if (over.compareAndSet(false, true)) {
                      stream.closed(0, e);
                    }
                  });
            })
        .onFailure(
            e -> {
              if (over.compareAndSet(false, true)) {
                stream.closed(0, e);
              }
            });
    return () -> {
      if (over.compareAndSet(false, true)) {
        HttpClientRequest request = current.get();
        if (request != null) {
          request.reset();
        }
      }
    };
  }

  private RequestOptions options(HttpMethod method, String path) {
    return new RequestOptions()
        .setMethod(method)
        .setAbsoluteURI(server.url().resolve(path).toString())
        .putHeader("Authorization", "Bearer " + server.token())
        .putHeader("Accept", "application/json");
  }

  @Override
  public void close() {
    http.close();
  }
}
