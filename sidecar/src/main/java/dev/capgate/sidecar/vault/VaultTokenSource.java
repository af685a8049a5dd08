package dev.capgate.sidecar.vault;

import java.io.IOException;

/**
 * Where the Vault token comes from. Today a file ({@link TokenFile}); later a Kubernetes-auth
 * login that renews its own token can implement this without touching the resolver.
 */
public interface VaultTokenSource {
  /** The token to use now. Called on a virtual thread, so it may block. */
  String token() throws IOException;
}
