package dev.capgate.sidecar.vault;

import java.io.IOException;

/**
 * Where the Vault token comes from: a file ({@link TokenFile}, file mode) or the session's own
 * token obtained through the operator and kept alive ({@link VaultIdentity}, cluster mode).
 */
public interface VaultTokenSource {
  /** The token to use now. Called on a virtual thread, so it may block. */
  String token() throws IOException;
}
