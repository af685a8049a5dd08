package dev.capgate.sidecar.vault;

/**
 * Where the sidecar writes down what it holds in Vault (lease ids, token accessors), so that the
 * operator can revoke them when the session is deleted, even if this sidecar is gone by then.
 * Implementations must not block the caller for long and must tolerate being unable to write: the
 * sidecar revokes its own leases and token too, this is the second line.
 */
public interface LeaseRecorder {
  LeaseRecorder NONE =
      new LeaseRecorder() {
        @Override
        public void recordLease(String leaseId) {}

        @Override
        public void recordAccessor(String accessor) {}

        @Override
        public void forgetLease(String leaseId) {}

        @Override
        public void forgetAccessor(String accessor) {}
      };

  void recordLease(String leaseId);

  void recordAccessor(String accessor);

  /** The lease is over (revoked or expired): no need to revoke it any more. */
  void forgetLease(String leaseId);

  /** The token is over (revoked or expired). */
  void forgetAccessor(String accessor);
}
