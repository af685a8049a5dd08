package dev.capgate.e2e;

/** The sessions of the scenarios (NAME is replaced by the session's name). */
final class Sessions {
  private Sessions() {}

  /**
   * The article's example: a coding agent on issue 42 of acme/repo-a may read the repo and open
   * pull requests through the API, clone and fetch it over Git; nothing else. Push is absent (no
   * git-receive-pack), admin operations (DELETE) are absent, repo B is absent.
   */
  static final String ARTICLE =
      """
      apiVersion: capgate.dev/v1alpha1
      kind: AgentSession
      metadata:
        name: NAME
      spec:
        user: alice@example.com
        agent: coding-agent
        project: payments
        ttl: 2h
        vault: {role: capgate-agent}
        credentials:
          - name: github
            vault: {path: "secret/data/github/{{user}}", field: token}
            inject: {type: bearer}
          - name: github-git
            vault: {path: "secret/data/github/{{user}}", field: token}
            inject: {type: basic, username: x-access-token}
        egress:
          - name: github-api
            hosts: [api.github.test]
            methods: [GET, POST]
            paths: ["/repos/acme/repo-a", "/repos/acme/repo-a/**"]
            credential: github
          - name: git-fetch
            hosts: [github.test]
            methods: [GET, POST]
            paths: ["/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-upload-pack"]
            credential: github-git
      """;

  /**
   * An internal API that takes OpenBao identity JWTs, and a remote MCP server with a bearer token.
   */
  static final String INTERNAL_AND_MCP =
      """
      apiVersion: capgate.dev/v1alpha1
      kind: AgentSession
      metadata:
        name: NAME
      spec:
        user: alice@example.com
        agent: coding-agent
        vault: {role: capgate-agent}
        credentials:
          - name: internal-identity
            vault: {path: "identity/oidc/token/internal-api", engine: identity-token}
            inject: {type: bearer}
          - name: mcp
            vault: {path: "secret/data/mcp/{{user}}", field: token}
            inject: {type: bearer}
        egress:
          - name: internal-api
            hosts: [internal.test]
            methods: [GET]
            paths: ["/orders/**"]
            credential: internal-identity
          - name: mcp
            hosts: [mcp.test]
            methods: [POST]
            paths: ["/mcp"]
            credential: mcp
      """;

  /**
   * Bob's session (VaultScopeE2E): his own repo B through the API with his own {@code {{user}}}
   * credential, and — the attack — a credential whose path names alice's secret literally, on a Git
   * route to repo A. Vault must refuse bob's sidecar that path: its token is bob's.
   */
  static final String BOB_BORROWING_ALICES_PATH =
      """
      apiVersion: capgate.dev/v1alpha1
      kind: AgentSession
      metadata:
        name: NAME
      spec:
        user: bob@example.com
        agent: coding-agent
        vault: {role: capgate-agent}
        credentials:
          - name: github
            vault: {path: "secret/data/github/{{user}}", field: token}
            inject: {type: bearer}
          - name: alices-github
            vault: {path: "secret/data/github/alice@example.com", field: token}
            inject: {type: basic, username: x-access-token}
        egress:
          - name: github-api
            hosts: [api.github.test]
            methods: [GET]
            paths: ["/repos/acme/repo-b", "/repos/acme/repo-b/**"]
            credential: github
          - name: borrowed
            hosts: [github.test]
            methods: [GET, POST]
            paths: ["/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-upload-pack"]
            credential: alices-github
      """;
}
