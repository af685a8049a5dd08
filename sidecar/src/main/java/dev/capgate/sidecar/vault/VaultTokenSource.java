package dev.capgate.sidecar.vault;

import java.io.IOException;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Where the {@link CredentialBroker}'s Vault token comes from: the session's own token obtained
 * through the operator and kept alive ({@link VaultIdentity}, cluster mode), or a static token read
 * from a file ({@link TokenFile}, file mode: local runs, the data-plane tests and the bench). Both
 * feed the same broker, so file mode exercises the production credential path.
 *
 * <p>The defaults describe a static token: nobody here logs it in, renews it or revokes it; it
 * changes only when whoever owns the file rewrites it.
 */
public interface VaultTokenSource {
  /** Stands for the accessor of a static token, which the sidecar never looks up. */
  String STATIC_ACCESSOR = "static";

  /** The token to use now. Called on a virtual thread, so it may block. */
  String token() throws IOException;

  /**
   * The token in force with its accessor (leases are tied to the token that created them).
   *
   * @throws VaultReadException when there is no token to use, with a reason that never holds it
   */
  default VaultToken current() {
    try {
      return new VaultToken(token(), STATIC_ACCESSOR, Duration.ZERO, false);
    } catch (IOException e) {
      throw new VaultReadException("no Vault token: " + e.getMessage());
    }
  }

  /**
   * A request made with {@code token} was denied: drops the token if it is dead (not merely lacking
   * the path's policy), so that the next {@link #current()} gets a new one.
   *
   * @return true if a retry with a new token makes sense; never for a static token
   */
  default boolean dropIfDead(String token) {
    return false;
  }

  /**
   * Called with the accessor of every token that is replaced or dropped; a static token never is.
   */
  default void onTokenRetired(Consumer<String> listener) {}

  /**
   * The session has ended: revoke the token (and with it the leases created with it) and hand out
   * no other. A static token belongs to whoever wrote the file and is left alone.
   *
   * @return false if Vault could not be told
   */
  default boolean revoke() {
    return true;
  }
}
