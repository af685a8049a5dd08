package dev.capgate.operator.session;

import dev.capgate.api.v1alpha1.AgentSession;
import dev.capgate.api.v1alpha1.AgentSessionSpec;
import dev.capgate.api.v1alpha1.VaultPaths;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a session's sidecars can have put in its lease ledger, and so what the operator may revoke
 * with its own, stronger Vault token. Any pod bound to the session can write the ledger: without
 * this check it could have the operator revoke other workloads' leases and tokens (a confused
 * deputy). Pure: Vault's answer about a token comes in as a {@link VaultRevoker.TokenOrigin}.
 *
 * <ul>
 *   <li>A lease: Vault names a lease {@code <request path>/<random id>}, and the sidecar reads a
 *       {@code dynamic} credential with one GET of its resolved path. So a lease id is the
 *       session's when it is one of those paths plus one more segment.
 *   <li>A token: issued by the JWT auth method at {@code spec.vault.authMount} (its {@code path} is
 *       {@code auth/<mount>/login}: a token from {@code auth/token/create} may carry any metadata
 *       its creator chose) for {@code spec.vault.role}, from a session JWT of this session: the
 *       role's {@code claim_mappings} copy the JWT's {@code namespace} and {@code session} claims
 *       into the token's metadata, and only the operator signs those.
 * </ul>
 */
final class LedgerScope {
  /** Longest value considered (Vault's ids are far shorter); keeps logs and events bounded. */
  static final int MAX_VALUE_LENGTH = 512;

  /** Token metadata of a JWT login: the role (set by Vault) and the mapped claims. */
  static final String META_ROLE = "role";

  static final String META_NAMESPACE = dev.capgate.api.identity.SessionJwt.CLAIM_NAMESPACE;
  static final String META_SESSION = dev.capgate.api.identity.SessionJwt.CLAIM_SESSION;

  private final List<String> dynamicPaths;
  private final String namespace;
  private final String session;
  private final String role;
  private final String loginPath;

  LedgerScope(
      List<String> dynamicPaths, String namespace, String session, String role, String authMount) {
    this.dynamicPaths = List.copyOf(dynamicPaths);
    this.namespace = namespace;
    this.session = session;
    this.role = role;
    String mount = authMount == null ? null : collapseSlashes(authMount);
    this.loginPath = mount == null || mount.isEmpty() ? null : "auth/" + mount + "/login";
  }

  static LedgerScope of(AgentSession session) {
    String namespace = session.getMetadata().getNamespace();
    String name = session.getMetadata().getName();
    AgentSessionSpec spec = session.getSpec();
    if (spec == null) {
      return new LedgerScope(List.of(), namespace, name, null, null);
    }
    List<String> paths = VaultPaths.dynamicPaths(spec, namespace, name);
    return spec.vault() == null
        ? new LedgerScope(paths, namespace, name, null, null)
        : new LedgerScope(
            paths, namespace, name, spec.vault().role(), spec.vault().authMountOrDefault());
  }

  /** The outcome for one entry: revoke {@code value} (normalized), or refuse for {@code reason}. */
  record Verdict(String value, String reason) {
    static Verdict revoke(String value) {
      return new Verdict(value, null);
    }

    static Verdict refuse(String reason) {
      return new Verdict(null, reason);
    }

    boolean allowed() {
      return reason == null;
    }
  }

  List<String> dynamicPaths() {
    return dynamicPaths;
  }

  Verdict lease(String leaseId) {
    if (dynamicPaths.isEmpty()) {
      return Verdict.refuse("the session declares no dynamic credential");
    }
    Optional<String> normalized = normalizeLeaseId(leaseId);
    if (normalized.isEmpty()) {
      return Verdict.refuse("not a well-formed lease id");
    }
    Optional<String> under = leaseUnder(normalized.get(), dynamicPaths);
    return under
        .map(Verdict::revoke)
        .orElseGet(() -> Verdict.refuse("not under a dynamic credential path of the session"));
  }

  /** Checked before asking Vault about it: an accessor is a short id, nothing else. */
  Optional<String> malformedAccessor(String accessor) {
    if (accessor.length() > MAX_VALUE_LENGTH) {
      return Optional.of("not a token accessor");
    }
    for (int i = 0; i < accessor.length(); i++) {
      char c = accessor.charAt(i);
      if (!((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '.'
          || c == '_'
          || c == '-')) {
        return Optional.of("not a token accessor");
      }
    }
    return Optional.empty();
  }

  /**
   * Whether Vault's description of a token makes it one of this session's sidecars'. The reason
   * says which check failed, not the token's actual namespace or role: those belong to whoever owns
   * the token, and the reason goes into an Event of this namespace.
   */
  Verdict token(String accessor, VaultRevoker.TokenOrigin origin) {
    if (role == null || loginPath == null) {
      return Verdict.refuse("the session has no spec.vault");
    }
    if (!loginPath.equals(origin.path())) {
      return Verdict.refuse("not issued by " + loginPath);
    }
    Map<String, String> meta = origin.meta();
    if (!namespace.equals(meta.get(META_NAMESPACE))) {
      return Verdict.refuse("a session of another namespace");
    }
    if (!session.equals(meta.get(META_SESSION))) {
      return Verdict.refuse("another session");
    }
    if (!role.equals(meta.get(META_ROLE))) {
      return Verdict.refuse("another Vault role");
    }
    return Verdict.revoke(accessor);
  }

  /** What is revoked, for the report of what was not. */
  String describe() {
    return "leases under "
        + (dynamicPaths.isEmpty()
            ? "(no dynamic credential path)"
            : String.join(", ", dynamicPaths))
        + "; tokens from "
        + (loginPath == null
            ? "(no spec.vault)"
            : loginPath
                + " with role "
                + role
                + " for session "
                + session
                + " of namespace "
                + namespace);
  }

  /**
   * A lease id in its canonical form: no leading, trailing or repeated slashes, every segment made
   * of {@code A-Z a-z 0-9 . _ @ + -} and none of them "." or "..". Empty when that is impossible.
   */
  static Optional<String> normalizeLeaseId(String leaseId) {
    if (leaseId == null || leaseId.length() > MAX_VALUE_LENGTH) {
      return Optional.empty();
    }
    String id = collapseSlashes(leaseId.strip());
    if (id.isEmpty()) {
      return Optional.empty();
    }
    for (String segment : id.split("/")) {
      if (segment.equals(".") || segment.equals("..")) {
        return Optional.empty();
      }
      for (int i = 0; i < segment.length(); i++) {
        char c = segment.charAt(i);
        if (!((c >= 'a' && c <= 'z')
            || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '.'
            || c == '_'
            || c == '@'
            || c == '+'
            || c == '-')) {
          return Optional.empty();
        }
      }
    }
    return Optional.of(id);
  }

  /**
   * The normalized lease id when it is one of {@code paths} (resolved credential paths) plus
   * exactly one segment: {@code database/creds/app/<id>} is under {@code database/creds/app},
   * {@code database/creds/app-evil/<id>} and {@code database/creds/app/x/<id>} are not.
   */
  static Optional<String> leaseUnder(String leaseId, List<String> paths) {
    Optional<String> normalized = normalizeLeaseId(leaseId);
    if (normalized.isEmpty()) {
      return Optional.empty();
    }
    String id = normalized.get();
    for (String raw : paths) {
      String path = collapseSlashes(raw);
      if (path.isEmpty() || !id.startsWith(path + "/")) {
        continue;
      }
      String rest = id.substring(path.length() + 1);
      if (!rest.isEmpty() && rest.indexOf('/') < 0) {
        return Optional.of(id);
      }
    }
    return Optional.empty();
  }

  /** Repeated slashes become one; leading and trailing ones go. */
  static String collapseSlashes(String path) {
    StringBuilder out = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '/' && (out.isEmpty() || out.charAt(out.length() - 1) == '/')) {
        continue;
      }
      out.append(c);
    }
    if (!out.isEmpty() && out.charAt(out.length() - 1) == '/') {
      out.setLength(out.length() - 1);
    }
    return out.toString();
  }
}
