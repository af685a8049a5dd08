package dev.capgate.sidecar.sigv4;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The upstream's side: signs the request as it leaves the sidecar with the real keys, over the
 * header names the agent signed (plus {@code x-amz-security-token} for temporary keys), the same
 * time and scope, and the same payload hash. Built per request once the agent's signature is
 * verified and the keys are resolved; {@code toString()} shows no key.
 */
public final class Resigner {
  private final AuthorizationHeader agents;
  private final String accessKeyId;
  private final String secretKey;
  private final String sessionToken;

  /**
   * @param agents the agent's verified authorization
   * @param sessionToken the session token of temporary keys; null or empty for long-term keys
   */
  public Resigner(
      AuthorizationHeader agents, String accessKeyId, String secretKey, String sessionToken) {
    this.agents = agents;
    this.accessKeyId = accessKeyId;
    this.secretKey = secretKey;
    this.sessionToken = sessionToken == null || sessionToken.isEmpty() ? null : sessionToken;
  }

  /** Headers the agent may have sent that the re-signed request must not carry as sent. */
  public static final List<String> REPLACED = List.of("authorization", SigV4.X_AMZ_SECURITY_TOKEN);

  /**
   * The headers to set on {@code upstream} (whose {@link #REPLACED} headers are already removed):
   * {@code Authorization}, and {@code X-Amz-Security-Token} for temporary keys. Set the token
   * before signing is not needed: it is signed from this value.
   */
  public Map<String, String> headersFor(SignedRequest upstream) {
    List<String> signed = new ArrayList<>(agents.signedHeaders());
    signed.remove(SigV4.X_AMZ_SECURITY_TOKEN);
    Map<String, List<String>> headers = new java.util.HashMap<>(upstream.headers());
    if (sessionToken != null) {
      signed.add(SigV4.X_AMZ_SECURITY_TOKEN);
      signed.sort(null);
      headers.put(SigV4.X_AMZ_SECURITY_TOKEN, List.of(sessionToken));
    }
    SignedRequest request =
        new SignedRequest(upstream.method(), upstream.path(), upstream.query(), headers);
    String payload = PayloadHash.check(request);
    String amzDate = request.single(SigV4.X_AMZ_DATE);
    String canonical =
        CanonicalRequest.of(request, signed, payload, agents.scope().service().equals("s3"));
    String signature = SigV4.signature(secretKey, amzDate, agents.scope(), canonical);
    Map<String, String> out = new LinkedHashMap<>();
    out.put(
        "Authorization",
        new AuthorizationHeader(accessKeyId, agents.scope(), List.copyOf(signed), signature)
            .format());
    if (sessionToken != null) {
      out.put("X-Amz-Security-Token", sessionToken);
    }
    return out;
  }

  @Override
  public String toString() {
    return "Resigner[scope=" + agents.scope() + ", temporary=" + (sessionToken != null) + "]";
  }
}
