package dev.capgate.sidecar.credentials;

import dev.capgate.api.v1alpha1.Credential;
import dev.capgate.sidecar.policy.SessionIdentity;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Where credential values come from. Pluggable, like Envoy's credential sources. */
public interface CredentialResolver {
  /**
   * Never blocks the caller; completes on any thread. Fails with a {@link
   * CredentialUnavailableException} naming the credential.
   */
  CompletionStage<SecretValue> resolve(Credential credential, SessionIdentity session);

  /**
   * Every credential of a rule that names several ({@code credentials: [a, b]}), resolved together;
   * the values come in the order of {@code credentials}. Fails if any fails, with a failing
   * credential's {@link CredentialUnavailableException} (possibly wrapped in a {@code
   * CompletionException}): a request never leaves with only some of its credentials.
   *
   * <p>For the response scrubber, every {@link SecretValue#reveal()} of the result and every
   * rendered header value are the request's injected values.
   */
  default CompletionStage<List<SecretValue>> resolveAll(
      List<Credential> credentials, SessionIdentity session) {
    if (credentials.size() == 1) {
      // The common rule: one credential, no array or allOf per request.
      return resolve(credentials.getFirst(), session).thenApply(List::of);
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<SecretValue>[] all =
        credentials.stream()
            .map(c -> resolve(c, session).toCompletableFuture())
            .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(all)
        .thenApply(
            done -> {
              List<SecretValue> values = new java.util.ArrayList<>(all.length);
              for (CompletableFuture<SecretValue> f : all) {
                values.add(f.join());
              }
              return List.copyOf(values);
            });
  }
}
