package dev.capgate.sidecar.credentials;

/**
 * A credential could not be produced: Vault down or sealed, access denied, a missing field, a value
 * unusable as a header. Names the credential and a reason written by Capgate, never the value and
 * never text copied from Vault's answer, so the message is safe for logs and for the agent.
 */
public class CredentialUnavailableException extends RuntimeException {
  private final String credential;
  private final String reason;

  public CredentialUnavailableException(String credential, String reason) {
    super("credential '" + credential + "' unavailable: " + reason);
    this.credential = credential;
    this.reason = reason;
  }

  public String credential() {
    return credential;
  }

  public String reason() {
    return reason;
  }
}
