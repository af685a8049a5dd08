#!/usr/bin/env bash
# Stops the local cluster started by cluster-up.sh and removes what it put on the host: pods and
# their processes, mounts, the pod bridge, iptables chains, cgroups, host sysctls (restored).
#
#   e2e/cluster/cluster-down.sh           stop; keep $E2E_DIR (PKI, kubeconfigs, logs) for a restart
#   e2e/cluster/cluster-down.sh --purge   stop and delete $E2E_DIR
#
# Safe to run any number of times, on a healthy, half-started or crashed cluster. Signals go only
# to processes whose pid file AND command line say they are ours (or, for pod processes, that sit
# in our cgroup), never by process name.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# A cleanup step that fails must say where, not end the script silently half-way.
trap 'say "cluster-down failed at line $LINENO: $BASH_COMMAND"' ERR
T0=$(date +%s.%N)
PURGE=0
[ "${1:-}" = --purge ] && PURGE=1

[ "$(id -u)" = 0 ] || die "run as root"

stop() {  # [SECONDS] NAME...: TERM to all of them at once, KILL whoever outlives the grace period
  local grace=15; [[ $1 =~ ^[0-9]+$ ]] && { grace=$1; shift; }
  local name pid i alive names=() pids=()
  for name in "$@"; do
    if pid=$(pid_of "$name"); then names+=("$name"); pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true; fi
    rm -f "$RUN/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for ((i = 0; i < grace * 5; i++)); do
    alive=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break; sleep 0.2
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[$i]}" 2>/dev/null; then say "${names[$i]} did not stop in ${grace}s: KILL"; kill -KILL "${pids[$i]}" 2>/dev/null || true; fi
  done
  say "stopped ${names[*]}"
}

# 1. Pods, while kubelet can still tear them down properly (CNI DEL frees the IP and its iptables
#    rules). Controllers and scheduler go first so nothing re-creates or re-places a pod.
if running kubelet && running kube-apiserver; then
  stop kube-controller-manager kube-scheduler
  if kc get pods -A --no-headers 2>/dev/null | grep -q .; then
    say "deleting pods"
    kc delete pods --all -A --grace-period=2 --wait=false >/dev/null 2>&1 || true
    for _ in $(seq 1 120); do
      kc get pods -A --no-headers 2>/dev/null | grep -q . || break
      sleep 0.5
    done
  fi
fi

# 2. The components, node first (each group stops in parallel).
stop kube-controller-manager kube-scheduler kube-proxy kubelet
stop kube-apiserver
stop etcd

# 3. Whatever still runs in our pod cgroups (a crashed kubelet leaves pods behind), then containerd
#    and its shims (found by our socket path in their command line).
pod_pids() {
  local h
  for h in /sys/fs/cgroup/*/; do
    if [ -d "$h${CGROUP_ROOT#/}" ]; then find "$h${CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null || true; fi
  done | sort -un
}
leftover=$(pod_pids)
if [ -n "$leftover" ]; then
  mapfile -t pids <<<"$leftover"
  say "killing ${#pids[@]} leftover pod processes"; kill -KILL "${pids[@]}" 2>/dev/null || true; sleep 0.5
fi
stop 20 containerd
shims=$(pids_with_arg "$CONTAINERD_SOCK")
if [ -n "$shims" ]; then
  mapfile -t pids <<<"$shims"
  say "stopping containerd shims: ${pids[*]}"; kill -KILL "${pids[@]}" 2>/dev/null || true; sleep 0.3
fi

# 4. Mounts under our directory (container root file systems, network namespaces, volumes),
#    innermost first.
for _ in 1 2 3; do
  mounts=$(awk -v d="$E2E_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | tac)
  [ -n "$mounts" ] || break
  for m in $mounts; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
done

# 5. Network: the pod bridge, and the iptables chains kube-proxy, kubelet and the CNI plugins made
#    (KUBE-*, CNI-*), in every table, IPv4 and IPv6. Chains first lose the rules that jump to them.
ip link del "$BRIDGE" 2>/dev/null || true
if [ -x "$TOOLS_BIN/kube-proxy" ]; then "$TOOLS_BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in filter nat mangle; do
    "$ipt-save" -t "$table" 2>/dev/null | grep -E '^-A .* -j (KUBE-|CNI-)' | grep -vE '^-A (KUBE-|CNI-)' \
      | while read -r rule; do eval "$ipt -t $table ${rule/#-A/-D}" 2>/dev/null || true; done || true
    chains=$("$ipt-save" -t "$table" 2>/dev/null | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p')
    for c in $chains; do "$ipt" -t "$table" -F "$c" 2>/dev/null || true; done
    for c in $chains; do "$ipt" -t "$table" -X "$c" 2>/dev/null || true; done
  done
done
# libcni keeps a result cache per attachment outside our directory (not configurable in containerd 1.6).
rm -f /var/lib/cni/results/"$CNI_NETWORK"-* 2>/dev/null || true

# 6. Our cgroups, deepest first.
for h in /sys/fs/cgroup/*/; do
  if [ -d "$h${CGROUP_ROOT#/}" ]; then find "$h${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
done

# 7. Host settings back as they were.
if [ -s "$RUN/sysctl.saved" ]; then
  while IFS='=' read -r k v; do sysctl -qw "$k=$v" 2>/dev/null || true; done < "$RUN/sysctl.saved"
  rm -f "$RUN/sysctl.saved"
fi

# 8. Check: nothing of ours runs, nothing is mounted.
# (e2e/stack's OpenBao and upstreams also live under $E2E_DIR/stack/: not the cluster's, not stopped here.)
left=$(for p in $(pids_with_arg "$E2E_DIR/"); do
  tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$E2E_DIR/stack/" || echo "$p"
done)
[ -z "$(pod_pids)" ] || left="$left $(pod_pids)"
mounted=$(awk -v d="$E2E_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
if [ -n "${left//[[:space:]]/}" ] || [ -n "$mounted" ]; then
  say "WARNING: still running: ${left:-none}; still mounted: ${mounted:-none}"
  exit 1
fi
if [ "$PURGE" = 1 ]; then rm -rf --one-file-system "${E2E_DIR:?}"; say "removed $E2E_DIR"; fi
say "cluster down in $(elapsed "$T0")s"
