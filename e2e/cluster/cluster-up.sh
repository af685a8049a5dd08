#!/usr/bin/env bash
# Starts a real single-node Kubernetes 1.35 cluster on this machine, without Docker:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler   (control plane, host processes)
#   containerd 1.6 (our own config, root, state and socket) + runc + CNI bridge/host-local/portmap
#   kubelet (cgroupfs, cgroup v1) and kube-proxy (iptables mode)    (the node)
# and imports the images the node needs (pause, agent, java-base; see hack/images.sh) into
# containerd, because there is no registry to pull from.
#
#   e2e/cluster/cluster-up.sh            -> export KUBECONFIG=/var/lib/capgate-e2e/kubeconfig
#   e2e/cluster/cluster-down.sh [--purge]
#
# Idempotent: if the cluster is already up and healthy, it says so and exits. A half-running or
# stopped cluster is cleaned up and started fresh (new etcd, new containerd state) with the same
# PKI, so kubeconfigs handed out earlier stay valid.
set -euo pipefail
source "$(dirname "$0")/env.sh"
T0=$(date +%s.%N)

[ "$(id -u)" = 0 ] || die "run as root (kubelet, containerd, iptables, cgroups)"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  [ -x "$TOOLS_BIN/$b" ] || die "$TOOLS_BIN/$b missing: run 'make tools' first"
done
for b in containerd containerd-shim-runc-v2 runc ctr iptables conntrack openssl; do
  command -v "$b" >/dev/null || die "$b missing (apt-get install -y containerd runc iptables conntrack openssl)"
done
{ [ -x "$CNI_BIN_DIR/bridge" ] && [ -x "$CNI_BIN_DIR/host-local" ] && [ -x "$CNI_BIN_DIR/portmap" ]; } \
  || die "CNI plugins missing in $CNI_BIN_DIR (apt-get install -y containernetworking-plugins)"
[ -n "$NODE_IP" ] || die "could not determine the node IP; set CAPGATE_NODE_IP"

apiserver_ready() {
  curl -sf --max-time 3 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$NODE_IP:$APISERVER_PORT/readyz" >/dev/null 2>&1
}
node_ready() {
  [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# --- already up? ---------------------------------------------------------------------------------
all_running=1
for c in "${COMPONENTS[@]}"; do running "$c" || all_running=0; done
if [ "$all_running" = 1 ] && apiserver_ready && node_ready; then
  say "already up: export KUBECONFIG=$KUBECONFIG_ADMIN"; exit 0
fi
if [ -d "$RUN" ] || grep -qF " $E2E_DIR/" /proc/self/mountinfo; then
  say "leftovers of an earlier run: cleaning up first"
  "$(dirname "$0")/cluster-down.sh"
fi

# --- fresh state, same PKI and images -----------------------------------------------------------
# containerd's root (its content store: the imported images) survives a restart, which saves
# re-importing ~0.5 GB; its containers do not (removed below, once containerd runs).
for d in etcd containerd/state containerd/runc kubelet cni pod-logs run; do rm -rf --one-file-system "${E2E_DIR:?}/$d"; done
if [ -d "$LOGS" ]; then rm -rf "$LOGS.prev"; mv "$LOGS" "$LOGS.prev"; fi
mkdir -p "$E2E_DIR"/{etcd,containerd,kubelet,cni/net.d,cni/ipam,pod-logs} "$LOGS" "$RUN" "$(dirname "$CONTAINERD_SOCK")"
"$(dirname "$0")/pki.sh"
say "PKI ready ($PKI), node $NODE_NAME at $NODE_IP"

# --- host settings the node needs; the old values are restored by cluster-down ------------------
# ip_forward: pods reach Services, the node and each other through the host. bridge-nf-call-*:
# a pod talking to a Service whose endpoint sits on the same bridge must pass iptables, or
# kube-proxy's DNAT is never undone on the reply.
: > "$RUN/sysctl.saved"
set_sysctl() {
  local k=$1 v=$2 old; old=$(sysctl -n "$k" 2>/dev/null) || return 0
  echo "$k=$old" >> "$RUN/sysctl.saved"
  [ "$old" = "$v" ] || sysctl -qw "$k=$v"
}
set_sysctl net.ipv4.ip_forward 1
set_sysctl net.bridge.bridge-nf-call-iptables 1
set_sysctl net.bridge.bridge-nf-call-ip6tables 1
[ "$POD_IPV6" = 1 ] && set_sysctl net.ipv6.conf.all.forwarding 1

# kubelet's cgroupRoot must exist in every mounted v1 hierarchy before it starts.
for h in /sys/fs/cgroup/*/; do
  [ -e "$h/cgroup.procs" ] && mkdir -p "$h${CGROUP_ROOT#/}"
done

start() {  # NAME CMD...: a daemon of ours, in a session of its own (no terminal signals reach it)
  local name=$1; shift
  setsid "$@" > "$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN/$name.pid"
}
wait_for() {  # NAME SECONDS CHECK...: poll until CHECK succeeds; on failure show the log
  local name=$1 timeout=$2 t; shift 2; t=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then tail -40 "$LOGS/$name.log" >&2; die "$name exited (log: $LOGS/$name.log)"; fi
    if [ $(( $(date +%s) - t )) -ge "$timeout" ]; then tail -40 "$LOGS/$name.log" >&2; die "$name not ready after ${timeout}s (log: $LOGS/$name.log)"; fi
    sleep 0.5
  done
  say "$name ready"
}
on_error() { say "cluster-up failed; logs in $LOGS. Stop what started: $(dirname "$0")/cluster-down.sh"; }
trap on_error ERR

# --- etcd ----------------------------------------------------------------------------------------
# Loopback only, plain HTTP: only the apiserver talks to it. --unsafe-no-fsync: a test cluster
# trades crash durability for a much faster apiserver on a busy disk.
start etcd "$TOOLS_BIN/etcd" --name=capgate-e2e --data-dir="$E2E_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="capgate-e2e=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
  --unsafe-no-fsync=true --log-level=warn
wait_for etcd 60 curl -sf --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health"

# --- kube-apiserver ------------------------------------------------------------------------------
# Bound to the node address (pods reach it there through the `kubernetes` Service). Only the
# issuer as audience: a token minted for Vault must not work against the API (invariant 2);
# OpenBao's TokenReview names the vault audience itself.
start kube-apiserver "$TOOLS_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --api-audiences=https://kubernetes.default.svc.cluster.local \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --service-cluster-ip-range="$SERVICE_CIDR" --allow-privileged=true --profiling=false
wait_for kube-apiserver 180 apiserver_ready

# --- controller-manager, scheduler ---------------------------------------------------------------
# Each controller acts as its own service account (RBAC as in a real cluster). Serving certs are
# self-signed into our run directory (the default would be /var/run/kubernetes).
start kube-controller-manager "$TOOLS_BIN/kube-controller-manager" \
  --kubeconfig="$E2E_DIR/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$E2E_DIR/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$E2E_DIR/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$RUN/kcm-certs" \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --use-service-account-credentials=true --leader-elect=false --cluster-name=capgate-e2e \
  --service-cluster-ip-range="$SERVICE_CIDR" --controllers='*' --profiling=false
start kube-scheduler "$TOOLS_BIN/kube-scheduler" \
  --kubeconfig="$E2E_DIR/scheduler.kubeconfig" \
  --authentication-kubeconfig="$E2E_DIR/scheduler.kubeconfig" \
  --authorization-kubeconfig="$E2E_DIR/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$RUN/scheduler-certs" \
  --leader-elect=false --profiling=false
healthz() { curl -sfk --max-time 2 "https://127.0.0.1:$1/healthz" >/dev/null 2>&1; }
wait_for kube-controller-manager 90 healthz "$KCM_PORT"
wait_for kube-scheduler 90 healthz "$SCHEDULER_PORT"

# --- containerd ----------------------------------------------------------------------------------
# Its own root, state and socket: it never meets a system containerd. cgroupfs (no systemd here),
# restrict_oom_score_adj (the VM lacks CAP_SYS_RESOURCE), the sandbox image is ours (no registry),
# network namespaces under the state dir (not /var/run/netns), CNI from our conf dir.
ipam_ranges="[[{\"subnet\": \"$POD_CIDR\"}]]"; routes='[{"dst": "0.0.0.0/0"}]'
if [ "$POD_IPV6" = 1 ]; then
  ipam_ranges="[[{\"subnet\": \"$POD_CIDR\"}], [{\"subnet\": \"$POD_CIDR6\"}]]"; routes='[{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]'
fi
cat > "$E2E_DIR/cni/net.d/10-capgate.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": {"type": "host-local", "dataDir": "$E2E_DIR/cni/ipam", "ranges": $ipam_ranges, "routes": $routes}
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
cat > "$E2E_DIR/containerd/config.toml" <<EOF
version = 2
root = "$E2E_DIR/containerd/root"
state = "$E2E_DIR/containerd/state"
# The default /opt/containerd would be outside our directory.
plugin_dir = ""
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$E2E_DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "capgate.local/pause:3.10"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state (default /run/containerd/runc) in our directory too.
        Root = "$E2E_DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$E2E_DIR/cni/net.d"
    max_conf_num = 1
EOF
start containerd containerd --config "$E2E_DIR/containerd/config.toml"
wait_for containerd 60 ctr --address "$CONTAINERD_SOCK" version
# Containers of an earlier run (sandboxes included: CRI keeps them as containerd containers) would
# be "recovered" by CRI; the node starts empty instead.
CTR=(ctr --address "$CONTAINERD_SOCK" -n k8s.io)
stale=$("${CTR[@]}" containers ls -q)
if [ -n "$stale" ]; then
  for id in $stale; do "${CTR[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  for id in $stale; do "${CTR[@]}" tasks rm -f "$id" >/dev/null 2>&1 || true; "${CTR[@]}" containers rm "$id" >/dev/null 2>&1 || true; done
  say "removed $(echo "$stale" | wc -w) containers left from an earlier run"
fi

# --- images: nothing can be pulled, so the node gets them here ------------------------------------
t_img=$(date +%s.%N)
"$REPO_ROOT/hack/images.sh" --import pause agent java-base 2>&1 | sed 's/^/    /' >&2
say "images built/imported in $(elapsed "$t_img")s"

# --- kubelet -------------------------------------------------------------------------------------
cat > "$E2E_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 and no systemd on these machines: cgroupfs, and kubelet must be told v1 is fine (1.35
# refuses to start on cgroup v1 by default).
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: $CGROUP_ROOT
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# Requests to the kubelet API (logs, exec) are authenticated by client certificate or token and
# authorized by the apiserver (SubjectAccessReview); anonymous requests are refused.
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
port: $KUBELET_PORT
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
readOnlyPort: 0
# No registry: images are imported, never pulled; one pull at a time if anything tries.
serializeImagePulls: true
# Image GC off: a collected image could not be pulled back.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# A busy shared disk must not evict the test pods.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
podLogsDir: $E2E_DIR/pod-logs
volumePluginDir: $E2E_DIR/kubelet/volume-plugins
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
failSwapOn: false
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
maxPods: 110
EOF
start kubelet "$TOOLS_BIN/kubelet" --config="$E2E_DIR/kubelet/config.yaml" \
  --kubeconfig="$E2E_DIR/kubelet-client.kubeconfig" --root-dir="$E2E_DIR/kubelet" \
  --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
wait_for kubelet 120 node_ready

# --- kube-proxy ----------------------------------------------------------------------------------
cluster_cidr=$POD_CIDR; [ "$POD_IPV6" = 1 ] && cluster_cidr="$POD_CIDR,$POD_CIDR6"
cat > "$E2E_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
# No IPVS in this kernel; iptables mode is what Services need here.
mode: iptables
clientConnection: {kubeconfig: $E2E_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $cluster_cidr
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
# NodePorts on the node address only: no route_localnet flip on the host.
nodePortAddresses: ["$NODE_IP/32"]
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 1s}
# Leave the host's conntrack table size and timeouts as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
start kube-proxy "$TOOLS_BIN/kube-proxy" --config="$E2E_DIR/kube-proxy.yaml"
wait_for kube-proxy 60 curl -sf --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"

# --- ready for workloads -------------------------------------------------------------------------
# Pods are refused until their namespace's "default" service account exists.
default_sa() { kc get serviceaccount default -n default -o name >/dev/null 2>&1; }
wait_for kube-controller-manager 60 default_sa
trap - ERR
say "cluster up in $(elapsed "$T0")s: node $NODE_NAME Ready, API https://$NODE_IP:$APISERVER_PORT"
echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
