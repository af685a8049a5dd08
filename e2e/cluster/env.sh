# shellcheck shell=bash disable=SC2034
# Shared settings of the local single-node cluster; sourced by cluster-up.sh, cluster-down.sh,
# smoke.sh. Everything it runs or writes lives under $E2E_DIR (one directory; `cluster-down.sh
# --purge` removes it). Override any of these from the environment.
E2E_DIR=${CAPGATE_E2E_DIR:-/var/lib/capgate-e2e}
TOOLS_BIN=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/bin
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

NODE_NAME=${CAPGATE_NODE_NAME:-capgate-node}
# The node's address: the apiserver advertises it (pods reach the API through the `kubernetes`
# Service, which kube-proxy DNATs to this address) and the kubelet registers it. The source
# address of the default route; `ip route get` only consults the routing table, sends nothing.
NODE_IP=${CAPGATE_NODE_IP:-$(ip -4 -o route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')}
[ -n "$NODE_IP" ] || NODE_IP=$(ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | head -1)

APISERVER_PORT=${CAPGATE_APISERVER_PORT:-16443}
ETCD_CLIENT_PORT=${CAPGATE_ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_CLIENT_PORT + 1))
KCM_PORT=${CAPGATE_KCM_PORT:-10257}
SCHEDULER_PORT=${CAPGATE_SCHEDULER_PORT:-10259}
KUBELET_PORT=${CAPGATE_KUBELET_PORT:-10250}
KUBELET_HEALTHZ_PORT=${CAPGATE_KUBELET_HEALTHZ_PORT:-10248}
KUBE_PROXY_HEALTHZ_PORT=${CAPGATE_KUBE_PROXY_HEALTHZ_PORT:-10256}
KUBE_PROXY_METRICS_PORT=${CAPGATE_KUBE_PROXY_METRICS_PORT:-10249}

SERVICE_CIDR=${CAPGATE_SERVICE_CIDR:-10.96.0.0/16}
KUBERNETES_SERVICE_IP=10.96.0.1
POD_CIDR=${CAPGATE_POD_CIDR:-10.244.0.0/24}
# Pods get an IPv6 address too (ULA), so "the agent tries IPv6" is a real path, not a missing route.
# The cluster itself (Services, node) stays IPv4: set CAPGATE_E2E_IPV6=0 to drop pod IPv6.
POD_CIDR6=${CAPGATE_POD_CIDR6:-fd00:10:244::/64}
POD_IPV6=${CAPGATE_E2E_IPV6:-1}
BRIDGE=${CAPGATE_BRIDGE:-capgate0}
CNI_NETWORK=capgate-pods
CNI_BIN_DIR=${CAPGATE_CNI_BIN_DIR:-/usr/lib/cni}
# kubelet puts every pod cgroup under this parent (cgroupfs driver, cgroup v1): cluster-down can
# then find and kill exactly our pods' processes, and nothing else.
CGROUP_ROOT=/capgate-e2e

PKI=$E2E_DIR/pki
LOGS=$E2E_DIR/logs
RUN=$E2E_DIR/run
CONTAINERD_SOCK=$RUN/containerd/containerd.sock
KUBECONFIG_ADMIN=$E2E_DIR/kubeconfig
# The components, in start order; cluster-down stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[cluster %6ss] %s\n' "$(elapsed "${T0:-$(date +%s.%N)}")" "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }
kc() { "$TOOLS_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# Our processes are found by pid file AND by their command line naming $E2E_DIR (or the binary),
# so a recycled pid never gets a signal meant for a component that already exited.
pid_of() {
  local f=$RUN/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$E2E_DIR" || return 1
  echo "$pid"
}
running() { pid_of "$1" >/dev/null; }

# Pids of processes whose command line contains $1. Pure bash: a grep over /proc/*/cmdline would
# find itself (its own arguments contain the pattern).
pids_with_arg() {
  local f pid args
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [ "$pid" = "$$" ] || [ "$pid" = "${BASHPID:-}" ] && continue
    { mapfile -d '' args < "$f"; } 2>/dev/null || continue
    [[ " ${args[*]-} " == *"$1"* ]] && echo "$pid"
  done
  return 0
}
