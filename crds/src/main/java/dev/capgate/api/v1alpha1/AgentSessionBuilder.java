package dev.capgate.api.v1alpha1;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes an {@link AgentSession} from the API's own types, so a program or a test cannot write a
 * field the CRD does not have, and says it as YAML or JSON through Fabric8's serialization (what
 * kubectl and the API server read). What is not set stays absent, as in hand-written YAML: the
 * defaults are the API's, applied by the API server and the {@code ...OrDefault()} accessors.
 *
 * <pre>{@code
 * AgentSession s =
 *     session("fix-issue-42").user("alice@example.com").agent("coding-agent").ttl("2h")
 *         .vaultRole("capgate-agent")
 *         .credential(kv2("github", "secret/data/github/{{user}}", "token").bearer())
 *         .egress(rule("github-api").hosts("api.github.com").methods(GET).credential("github"))
 *         .build();
 * }</pre>
 *
 * <p>It validates nothing: tests build invalid sessions on purpose to see them refused by the
 * {@link AgentSessionValidator} and the CRD's CEL rules.
 */
public final class AgentSessionBuilder {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private final String name;
  private String namespace;
  private String user;
  private String agent;
  private String project;
  private String ttl;
  private OnRevoke onRevoke;
  private Limits limits;
  private SessionMode mode;
  private VaultAuth vault;
  private final List<Credential> credentials = new ArrayList<>();
  private final List<EgressRule> egress = new ArrayList<>();

  private AgentSessionBuilder(String name) {
    this.name = name;
  }

  /** A session named {@code name} (metadata.name). */
  public static AgentSessionBuilder session(String name) {
    return new AgentSessionBuilder(Objects.requireNonNull(name, "name"));
  }

  /** A session without metadata, for {@link #spec()} or {@link #specYaml()}. */
  public static AgentSessionBuilder specOnly() {
    return new AgentSessionBuilder(null);
  }

  /** metadata.name; null for {@link #specOnly()}. */
  public String name() {
    return name;
  }

  public AgentSessionBuilder namespace(String namespace) {
    this.namespace = namespace;
    return this;
  }

  public AgentSessionBuilder user(String user) {
    this.user = user;
    return this;
  }

  public AgentSessionBuilder agent(String agent) {
    this.agent = agent;
    return this;
  }

  public AgentSessionBuilder project(String project) {
    this.project = project;
    return this;
  }

  /** A duration in the API's grammar, e.g. {@code 2h} or {@code 90m}. */
  public AgentSessionBuilder ttl(String ttl) {
    this.ttl = ttl;
    return this;
  }

  /** Limits over every request of the session (on top of each rule's own). */
  public AgentSessionBuilder limits(Limits limits) {
    this.limits = limits;
    return this;
  }

  /** spec.mode: {@link SessionMode#Audit} for learn mode. */
  public AgentSessionBuilder mode(SessionMode mode) {
    this.mode = mode;
    return this;
  }

  public AgentSessionBuilder onRevoke(OnRevoke onRevoke) {
    this.onRevoke = onRevoke;
    return this;
  }

  /** The Vault role, on the default JWT auth mount. */
  public AgentSessionBuilder vaultRole(String role) {
    return vault(new VaultAuth(role, null));
  }

  public AgentSessionBuilder vault(VaultAuth vault) {
    this.vault = vault;
    return this;
  }

  public AgentSessionBuilder credential(CredentialBuilder... credentials) {
    for (CredentialBuilder c : credentials) {
      this.credentials.add(c.build());
    }
    return this;
  }

  public AgentSessionBuilder credential(Credential... credentials) {
    this.credentials.addAll(List.of(credentials));
    return this;
  }

  /** Rules in order: the first that matches decides. */
  public AgentSessionBuilder egress(RuleBuilder... rules) {
    for (RuleBuilder r : rules) {
      egress.add(r.build());
    }
    return this;
  }

  public AgentSessionBuilder egress(EgressRule... rules) {
    egress.addAll(List.of(rules));
    return this;
  }

  /** Whether a credential was declared (which the CRD allows only with {@code spec.vault}). */
  public boolean declaresCredentials() {
    return !credentials.isEmpty();
  }

  public AgentSessionSpec spec() {
    return new AgentSessionSpec(
        user,
        agent,
        project,
        ttl,
        onRevoke,
        vault,
        credentials.isEmpty() ? null : List.copyOf(credentials),
        List.copyOf(egress),
        limits,
        mode);
  }

  public AgentSession build() {
    AgentSession session = new AgentSession();
    session.getMetadata().setName(name);
    session.getMetadata().setNamespace(namespace);
    session.setSpec(spec());
    return session;
  }

  /** The whole resource (apiVersion, kind, metadata, spec) as YAML, for kubectl or a file. */
  public String yaml() {
    return SERIALIZATION.asYaml(build());
  }

  /** The whole resource as JSON: what the sidecar's {@code --session-file} reads. */
  public String json() {
    return SERIALIZATION.asJson(build());
  }

  /** A JSON object holding the spec alone ({@code {"spec": ...}}). */
  public String specJson() {
    return SERIALIZATION.asJson(Map.of("spec", spec()));
  }

  /** A document holding the spec alone ({@code spec: ...}), no apiVersion, kind nor metadata. */
  public String specYaml() {
    return SERIALIZATION.asYaml(Map.of("spec", spec()));
  }

  /** A rule named {@code name} (reported in audit lines and denials). */
  public static RuleBuilder rule(String name) {
    return new RuleBuilder(name);
  }

  /** A KV v2 secret's {@code field} at {@code path}. */
  public static CredentialBuilder kv2(String name, String path, String field) {
    return new CredentialBuilder(name, new VaultSecret(path, field, null));
  }

  /** A leased secret (database, PKI, ...): renewed while used, revoked with the session. */
  public static CredentialBuilder dynamic(String name, String path, String field) {
    return new CredentialBuilder(name, new VaultSecret(path, field, VaultEngine.DYNAMIC));
  }

  /** A short-lived OpenBao identity JWT from {@code path} (e.g. identity/oidc/token/api). */
  public static CredentialBuilder identityToken(String name, String path) {
    return new CredentialBuilder(name, new VaultSecret(path, null, VaultEngine.IDENTITY_TOKEN));
  }

  /**
   * A GitHub App installation token minted per session, the App's private key read from {@code
   * keyPath} (KV v2, field private_key); limit it with {@link CredentialBuilder#repositories} and
   * {@link CredentialBuilder#permission}.
   */
  public static CredentialBuilder githubApp(
      String name, long appId, long installationId, String keyPath) {
    return new CredentialBuilder(
        name,
        null,
        new GitHubAppCredential(
            appId, installationId, new VaultField(keyPath, null), null, null, null),
        null);
  }

  /** An OAuth access token obtained by the sidecar (refresh-token grant or token exchange). */
  public static CredentialBuilder oauth(String name, OAuthCredential oauth) {
    return new CredentialBuilder(name, null, null, oauth);
  }

  /**
   * AWS keys (access key id, secret key, optional session token, in the default fields) at {@code
   * path}, signing for {@code region} and service s3: requests are re-signed with them.
   */
  public static CredentialBuilder awsSigV4(String name, String path, String region) {
    return awsSigV4(
        name, new AwsSigV4Credential(new AwsVaultKeys(path, null, null, null, null), region, null));
  }

  /** An AWS Signature V4 credential as given. */
  public static CredentialBuilder awsSigV4(String name, AwsSigV4Credential aws) {
    CredentialBuilder b = new CredentialBuilder(name, null);
    b.aws = aws;
    return b;
  }

  /** A credential: where Vault keeps it, how it is put on the request, an optional placeholder. */
  public static final class CredentialBuilder {
    private final String name;
    private final VaultSecret vault;
    private GitHubAppCredential githubApp;
    private OAuthCredential oauth;
    private Injection inject;
    private Placeholder placeholder;
    private AwsSigV4Credential aws;

    private CredentialBuilder(String name, VaultSecret vault) {
      this(name, vault, null, null);
    }

    private CredentialBuilder(
        String name, VaultSecret vault, GitHubAppCredential githubApp, OAuthCredential oauth) {
      this.name = name;
      this.vault = vault;
      this.githubApp = githubApp;
      this.oauth = oauth;
    }

    /** A GitHub App credential's API base URL (default https://api.github.com). */
    public CredentialBuilder apiUrl(String apiUrl) {
      return app(apiUrl, app().repositories(), app().permissions());
    }

    /** A GitHub App credential's token may touch these repositories only. */
    public CredentialBuilder repositories(String... repositories) {
      return app(app().apiUrl(), List.of(repositories), app().permissions());
    }

    /** A GitHub App credential's token has {@code name} at {@code level} (among others). */
    public CredentialBuilder permission(String name, GitHubPermissionLevel level) {
      java.util.Map<String, GitHubPermissionLevel> permissions =
          new java.util.TreeMap<>(app().permissionsOrEmpty());
      permissions.put(name, level);
      return app(
          app().apiUrl(), app().repositories(), java.util.Collections.unmodifiableMap(permissions));
    }

    /** The same App and installation, with what the three setters above may change. */
    private CredentialBuilder app(
        String apiUrl,
        List<String> repositories,
        java.util.Map<String, GitHubPermissionLevel> permissions) {
      return app(
          new GitHubAppCredential(
              app().appId(),
              app().installationId(),
              app().privateKey(),
              apiUrl,
              repositories,
              permissions));
    }

    private GitHubAppCredential app() {
      if (githubApp == null) {
        throw new IllegalStateException(name + " is not a GitHub App credential");
      }
      return githubApp;
    }

    private CredentialBuilder app(GitHubAppCredential app) {
      this.githubApp = app;
      return this;
    }

    /** {@code Authorization: Bearer <value>}. */
    public CredentialBuilder bearer() {
      return inject(new Injection(InjectionType.BEARER, null, null, null));
    }

    /** {@code Authorization: Basic base64(<username>:<value>)}. */
    public CredentialBuilder basic(String username) {
      return inject(new Injection(InjectionType.BASIC, null, null, username));
    }

    /** {@code <header>: <value>}. */
    public CredentialBuilder header(String header) {
      return header(header, null);
    }

    /** {@code <header>: <template>}, the template holding {@code {{value}}}. */
    public CredentialBuilder header(String header, String template) {
      return inject(new Injection(InjectionType.HEADER, header, template, null));
    }

    public CredentialBuilder inject(Injection inject) {
      this.inject = inject;
      return this;
    }

    /** The agent finds an opaque placeholder in environment variable {@code env}. */
    public CredentialBuilder placeholder(String env) {
      this.placeholder = new Placeholder(env);
      return this;
    }

    public Credential build() {
      return new Credential(name, vault, inject, placeholder, githubApp, oauth, aws);
    }
  }

  /** An egress rule; what is not set stays absent. */
  public static final class RuleBuilder {
    private final String name;
    private List<String> hosts;
    private List<String> cidrs;
    private List<Integer> ports;
    private List<HttpMethod> methods;
    private List<String> paths;
    private String credential;
    private List<String> credentials;
    private TlsMode tls;
    private S3Operations s3;
    private GitPush git;
    private McpTools mcp;
    private Limits limits;
    private Approval approval;
    private GrpcMethods grpc;

    private RuleBuilder(String name) {
      this.name = name;
    }

    public RuleBuilder hosts(String... hosts) {
      this.hosts = List.of(hosts);
      return this;
    }

    public RuleBuilder cidrs(String... cidrs) {
      this.cidrs = List.of(cidrs);
      return this;
    }

    public RuleBuilder ports(Integer... ports) {
      this.ports = List.of(ports);
      return this;
    }

    public RuleBuilder methods(HttpMethod... methods) {
      this.methods = List.of(methods);
      return this;
    }

    public RuleBuilder paths(String... paths) {
      this.paths = List.of(paths);
      return this;
    }

    /** The one credential injected on what this rule allows. */
    public RuleBuilder credential(String credential) {
      this.credential = credential;
      return this;
    }

    /** Several credentials injected together, each into its own header. */
    public RuleBuilder credentials(String... credentials) {
      this.credentials = List.of(credentials);
      return this;
    }

    /** {@code tls: passthrough}: SNI allowlist only, bytes spliced untouched. */
    public RuleBuilder passthrough() {
      this.tls = TlsMode.PASSTHROUGH;
      return this;
    }

    /** The S3 operations allowed (null lists: any). */
    public RuleBuilder s3(List<String> actions, List<String> buckets, List<String> keyPrefixes) {
      this.s3 = new S3Operations(actions, buckets, keyPrefixes);
      return this;
    }

    /** What a git push through this rule may change. */
    public RuleBuilder git(GitPush git) {
      this.git = git;
      return this;
    }

    /** The MCP tools a call through this rule may use. */
    public RuleBuilder mcp(McpTools mcp) {
      this.mcp = mcp;
      return this;
    }

    /** The rule's rate, concurrency and budget limits. */
    public RuleBuilder limits(Limits limits) {
      this.limits = limits;
      return this;
    }

    /** Per-request human approval on what this rule allows. */
    public RuleBuilder approval(Approval approval) {
      this.approval = approval;
      return this;
    }

    /** The gRPC methods a call through this rule may invoke. */
    public RuleBuilder grpc(String... methods) {
      this.grpc = new GrpcMethods(List.of(methods));
      return this;
    }

    public EgressRule build() {
      return new EgressRule(
          name,
          hosts,
          cidrs,
          ports,
          methods,
          paths,
          credential,
          credentials,
          tls,
          s3,
          git,
          mcp,
          limits,
          approval,
          grpc);
    }
  }
}
