package dev.capgate.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "has(self.hosts) != has(self.cidrs)",
    reason = "FieldValueInvalid",
    message =
        "a rule names either hosts (HTTP/TLS by name) or cidrs (raw TCP by address), not both and not neither")
@ValidationRule(
    value = "!has(self.cidrs) || has(self.ports)",
    fieldPath = ".ports",
    reason = "FieldValueRequired",
    message = "ports are required for cidrs rules")
@ValidationRule(
    value = "!(has(self.credential) && has(self.credentials))",
    fieldPath = ".credentials",
    reason = "FieldValueForbidden",
    message = "name one credential with credential, or several with credentials, not both")
@ValidationRule(
    value =
        "!has(self.cidrs) || (!has(self.credential) && !has(self.credentials) && !has(self.methods) && !has(self.paths) && !has(self.tls))",
    fieldPath = ".cidrs",
    reason = "FieldValueForbidden",
    message = "cidrs rules allow raw TCP only: no credential, methods, paths or tls")
@ValidationRule(
    value =
        "!has(self.tls) || self.tls != 'passthrough' || (!has(self.credential) && !has(self.credentials) && !has(self.methods) && !has(self.paths))",
    fieldPath = ".tls",
    reason = "FieldValueForbidden",
    message =
        "tls: passthrough traffic is not decrypted, so the rule cannot inject a credential or match methods or paths")
@ValidationRule(
    value = "!has(self.s3) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".s3",
    reason = "FieldValueForbidden",
    message =
        "s3 operations are judged on decrypted requests: a hosts rule that is not passthrough")
@ValidationRule(
    value = "!has(self.git) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".git",
    reason = "FieldValueForbidden",
    message = "git push rules need decrypted HTTP: a hosts rule without tls: passthrough")
@ValidationRule(
    value = "!has(self.mcp) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".mcp",
    reason = "FieldValueForbidden",
    message = "mcp rules need decrypted HTTP: a hosts rule without tls: passthrough")
@ValidationRule(
    value =
        "!has(self.limits) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".limits",
    reason = "FieldValueForbidden",
    message =
        "limits count HTTP requests: a hosts rule without tls: passthrough (use spec.limits for the session)")
@ValidationRule(
    value =
        "!has(self.approval) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".approval",
    reason = "FieldValueForbidden",
    message = "approval holds HTTP requests: a hosts rule without tls: passthrough")
@ValidationRule(
    value = "!has(self.grpc) || (has(self.hosts) && (!has(self.tls) || self.tls != 'passthrough'))",
    fieldPath = ".grpc",
    reason = "FieldValueForbidden",
    message = "grpc methods are judged on decrypted HTTP/2: a hosts rule without tls: passthrough")
public record EgressRule(
    @Required
        @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Rule name, reported in audit lines and denial errors.")
        String name,
    @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "Host names (lower case), optionally *.example.com for any subdomain. Matched against TLS SNI and the HTTP Host, which must agree.")
        List<@Pattern(Patterns.HOST) @Size(max = 253) String> hosts,
    @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "Destination address ranges for raw TCP (no HTTP, no TLS inspection), e.g. 10.0.0.5/32.")
        List<@Pattern(Patterns.CIDR) @Size(max = 43) String> cidrs,
    @Size(min = 1, max = 16)
        @JsonPropertyDescription("Destination ports. Default for hosts rules: 443 and 80.")
        List<@Min(1) @Max(65535) Integer> ports,
    @Size(min = 1, max = 7) @JsonPropertyDescription("Allowed HTTP methods. Absent means any.")
        List<HttpMethod> methods,
    @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "Allowed paths, matched on the normalized path (decoded, dot-segments removed, no query). * matches one segment, ** any number. Absent means any.")
        List<@Pattern(Patterns.PATH) @Size(max = 512) String> paths,
    @Size(min = 1, max = 63)
        @Pattern(Patterns.NAME)
        @JsonPropertyDescription("Name of the credential to inject on requests this rule allows.")
        String credential,
    @Size(min = 1, max = 4)
        @JsonPropertyDescription(
            "Several credentials injected together (each into its own header), instead of credential.")
        List<@Pattern(Patterns.NAME) String> credentials,
    @JsonPropertyDescription(
            "intercept (default): TLS is terminated with the pod CA so method, path and credential apply; passthrough: SNI allowlist only, bytes spliced untouched.")
        TlsMode tls,
    @JsonPropertyDescription(
            "S3 operations allowed, judged on the operation itself (action, bucket, key prefix) derived from method, path, query and host, path-style or virtual-hosted style (<bucket>.s3.<region>.amazonaws.com). With methods and paths, all must allow.")
        S3Operations s3,
    @JsonPropertyDescription(
            "Git pushes (smart HTTP git-receive-pack) this rule allows, decided per ref before the pack goes upstream. Absent: the rule does not look into pushes.")
        GitPush git,
    @JsonPropertyDescription(
            "MCP (Streamable HTTP) tools this rule allows and conditions on their arguments, judged on each JSON-RPC POST body before it goes upstream; tools/list answers are filtered to them. Absent: MCP traffic through the rule is not looked into.")
        McpTools mcp,
    @JsonPropertyDescription(
            "Rate, concurrency and budget limits of the requests this rule allows, enforced per pod. Over the rate or the concurrency: 429 with Retry-After; a budget used up: 403 budget-exhausted. Applies to decrypted HTTP (hosts rules without tls: passthrough).")
        Limits limits,
    @JsonPropertyDescription(
            "Per-request human approval: each request this rule allows is held until a person approves its AgentApproval (kubectl capgate approve), and denied (403) when rejected or after the timeout.")
        Approval approval,
    @JsonPropertyDescription(
            "gRPC methods this rule allows (package.Service/Method or package.Service/*), judged on each gRPC call (HTTP/2 POST with content-type application/grpc) before it goes upstream; another method gets gRPC status PERMISSION_DENIED from the sidecar. Absent: gRPC calls through the rule are judged by methods and paths only.")
        GrpcMethods grpc) {

  public EgressRule(
      String name,
      List<String> hosts,
      List<String> cidrs,
      List<Integer> ports,
      List<HttpMethod> methods,
      List<String> paths,
      String credential,
      List<String> credentials,
      TlsMode tls) {
    this(
        name,
        hosts,
        cidrs,
        ports,
        methods,
        paths,
        credential,
        credentials,
        tls,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  /** Whether requests through this rule wait for a person's approval. */
  public boolean approvalRequired() {
    return approval != null && approval.requiredOrDefault();
  }

  /** The credentials this rule injects, whichever field names them. */
  public List<String> credentialNames() {
    if (credentials != null) {
      return credentials;
    }
    return credential == null ? List.of() : List.of(credential);
  }

  public TlsMode tlsOrDefault() {
    return tls == null ? TlsMode.INTERCEPT : tls;
  }

  public List<Integer> portsOrDefault() {
    return ports != null ? ports : (cidrs != null ? List.of() : List.of(443, 80));
  }
}
