package dev.capgate.sidecar.vault;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A lease recorder that remembers what is currently recorded, for tests without Kubernetes. */
final class RecordingLedger implements LeaseRecorder {
  final Set<String> leases = ConcurrentHashMap.newKeySet();
  final Set<String> accessors = ConcurrentHashMap.newKeySet();

  @Override
  public void recordLease(String leaseId) {
    leases.add(leaseId);
  }

  @Override
  public void recordAccessor(String accessor) {
    accessors.add(accessor);
  }

  @Override
  public void forgetLease(String leaseId) {
    leases.remove(leaseId);
  }

  @Override
  public void forgetAccessor(String accessor) {
    accessors.remove(accessor);
  }
}
