package dev.capgate.sidecar.policy;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The policy in force, swappable at any time: today loaded once from a file, later replaced by the
 * watch of the AgentSession. Readers take {@link #current()} per connection and per request, so a
 * swap (or a revocation: {@link #revoke}) applies to the very next request of open connections.
 *
 * <p>Fail closed: with no valid policy, {@link #current()} is empty and every caller denies.
 */
public final class PolicySource {
  /** What is in force: a policy, or the reason there is none. */
  public record State(Policy policy, String problem) {}

  private final AtomicReference<State> state =
      new AtomicReference<>(new State(null, "no session loaded yet"));
  private final List<Runnable> revocationListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<Policy>> installListeners = new CopyOnWriteArrayList<>();

  public Optional<Policy> current() {
    return Optional.ofNullable(state.get().policy());
  }

  /** Why there is no policy (for denial reasons and /readyz); empty while one is in force. */
  public String problem() {
    State s = state.get();
    return s.policy() != null ? "" : s.problem();
  }

  public void install(Policy policy) {
    state.set(new State(policy, null));
    installListeners.forEach(listener -> listener.accept(policy));
  }

  /**
   * Runs {@code listener} with every policy installed, on the installing thread: it must not block.
   */
  public void onInstall(Consumer<Policy> listener) {
    installListeners.add(listener);
  }

  /**
   * Deny everything from now on, saying why (invalid spec, deleted or expired session), and tell
   * the listeners, which close what is open: a splice decided under the old policy must not live
   * on.
   */
  public void revoke(String reason) {
    State previous = state.getAndSet(new State(null, reason));
    if (previous.policy() != null) {
      revocationListeners.forEach(Runnable::run);
    }
  }

  /** Runs {@code listener} on every revocation of a policy that was in force. */
  public void onRevocation(Runnable listener) {
    revocationListeners.add(listener);
  }
}
