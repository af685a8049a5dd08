package dev.capgate.sidecar.sigv4;

/**
 * {@code <date>/<region>/<service>/aws4_request}: what a signature is valid for.
 *
 * @param date {@code yyyyMMdd}, the day of {@code X-Amz-Date}
 */
public record CredentialScope(String date, String region, String service) {
  @Override
  public String toString() {
    return date + "/" + region + "/" + service + "/" + SigV4.TERMINATOR;
  }
}
