#!/usr/bin/env bash
# Builds Kind's node image here, from the repository alone: no registry is reachable on the
# project's machines, so neither kindest/base nor kindest/node nor the images they bundle can be
# pulled. Everything comes from Debian packages and Go modules, pinned, cached outside the repo
# ($KIND_CACHE); podman's store holds the results.
#
#   e2e/kind/node-image.sh        prints the node image's name (capgate.local/kind-node:$KUBE_VERSION)
#
#   1. base image (capgate.local/kind-base:$KIND_VERSION): kind's own images/base files (entrypoint,
#      systemd units, containerd config) from the sigs.k8s.io/kind module, on a Debian bookworm
#      root file system (e2e/images/rootfs.sh) with systemd, containerd 1.6 and runc (the same
#      containerd minor as the local cluster, e2e/cluster), the CNI plugins, iptables; the steps of
#      kind's images/base/Dockerfile, with buildah.
#   2. the Kubernetes images kubeadm runs (kube-apiserver, -controller-manager, -scheduler,
#      kube-proxy) from the binaries `make tools` builds, etcd from `make tools` too (its version,
#      so kind-config gets an etcd imageTag), pause from hack/images.sh; kubeadm from its Go module.
#   3. the node image: kind's `build node-image` steps (binaries in /usr/bin, images imported into
#      the node's containerd, /kind/version) done with podman, because `kind build node-image`
#      fetches every image the server tarball lacks (kindnetd, local-path-provisioner, CoreDNS)
#      from its registry inside the build container (ctr content fetch), and kindnetd's module is
#      not on the Go proxy. Instead of kindnetd the node gets a static CNI config (ptp + host-local
#      + portmap, dual-stack), the local cluster has no DNS add-on either (pods get hostAliases), and
#      no storage provisioner (the scenarios use no volumes).
set -euo pipefail
source "$(dirname "$0")/env.sh"
KIND_CACHE=${CAPGATE_KIND_CACHE:-$HOME/.cache/capgate/kind}
mkdir -p "$KIND_CACHE/bin" "$KIND_CACHE/archives" "$KIND_CACHE/src"
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
# The repository kubeadm's ClusterConfiguration names (kind-config.local.yaml, imageRepository).
KUBE_IMAGE_REPOSITORY=capgate.local
SANDBOX_IMAGE=capgate.local/pause:3.10   # hack/images.sh's pause
BUILDAH=(buildah)   # podman's store (/var/lib/containers), so podman and kind see the images
export BUILDAH_ISOLATION=chroot
BASE_IMAGE=capgate.local/kind-base:$KIND_VERSION
NODE_IMAGE=capgate.local/kind-node:$KUBE_VERSION
# The static CNI config's ranges: kind-config.yaml's podSubnet, the node's first /24 and /64.
POD_RANGE4=10.244.0.0/24
POD_RANGE6=fd00:10:244::/64
BASE_PACKAGES="systemd conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2 pigz fuse-overlayfs e2fsprogs bash ca-certificates curl jq procps runc containerd containernetworking-plugins socat"

T0=$(date +%s)
nsay() { printf '[node-image %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
image_label() { podman image inspect -f '{{ index .Labels "dev.capgate.inputs" }}' "$1" 2>/dev/null || true; }

# --- kubeadm from its Go module (the other Kubernetes binaries come from make tools) -------------
build_kubeadm() {
  [ "$(cat "$KIND_CACHE/bin/kubeadm.version" 2>/dev/null)" = "$KUBE_VERSION" ] && return
  nsay "building kubeadm $KUBE_VERSION"
  local dir=$KIND_CACHE/src/kubeadm staging="v0.${KUBE_VERSION#v1.}" minor gomod
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  rm -rf "$dir"; mkdir -p "$dir"
  (
    cd "$dir"
    go mod init capgate.dev/kind/kubeadm >/dev/null 2>&1
    go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
      go mod edit -replace="$m=$m@$staging"
    done
    local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version
    nice go build -trimpath -o "$KIND_CACHE/bin/kubeadm" -ldflags "-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 \
      -X $v.gitMinor=$minor -X $v.gitTreeState=clean -X $cv.gitVersion=$KUBE_VERSION -X $cv.gitMajor=1 -X $cv.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kubeadm
  )
  echo "$KUBE_VERSION" > "$KIND_CACHE/bin/kubeadm.version"
}

# --- 1. the base image ---------------------------------------------------------------------------
build_base() {
  local files rootfs inputs c
  files=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/images/base/files
  rootfs=$("$REPO_ROOT/e2e/images/rootfs.sh" kind-base "$BASE_PACKAGES")
  inputs=$(printf '%s\n' "$(basename "$rootfs")" "$(find "$files" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum)" \
    "$(sed -n '/^build_base()/,/^}/p' "$0")" | sha256sum | cut -c1-16)
  if [ "$(image_label "$BASE_IMAGE")" = "$inputs" ]; then nsay "$BASE_IMAGE up to date"; return; fi
  nsay "building $BASE_IMAGE (kind $KIND_VERSION's images/base files on $(basename "$rootfs"))"
  c=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" add "$c" "$rootfs" / >/dev/null
  local mnt; mnt=$("${BUILDAH[@]}" mount "$c")
  # The COPY lines of kind's Dockerfile.
  install -m 0755 "$files"/usr/local/bin/* "$mnt/usr/local/bin/"
  mkdir -p "$mnt/kind/bin" "$mnt/LICENSES" "$mnt/etc/containerd" "$mnt/etc/default" "$mnt/etc/sysctl.d" \
    "$mnt/etc/systemd/system/kubelet.service.d" "$mnt/etc/kubernetes/manifests" "$mnt/opt/cni/bin" "$mnt/etc/cni/net.d"
  cp -r "$files"/kind/. "$mnt/kind/"; chmod 0755 "$mnt/kind" "$mnt/kind/bin" "$mnt"/kind/bin/*
  install -m 0644 "$files"/LICENSES/* "$mnt/LICENSES/"
  install -m 0644 "$files"/etc/crictl.yaml "$mnt/etc/"
  install -m 0644 "$files"/etc/containerd/* "$mnt/etc/containerd/"
  install -m 0644 "$files"/etc/default/* "$mnt/etc/default/"
  install -m 0644 "$files"/etc/sysctl.d/* "$mnt/etc/sysctl.d/"
  install -m 0644 "$files"/etc/systemd/system/*.service "$files"/etc/systemd/system/*.slice "$mnt/etc/systemd/system/"
  install -m 0644 "$files"/etc/systemd/system/kubelet.service.d/* "$mnt/etc/systemd/system/kubelet.service.d/"
  # This VM has no CAP_SYS_RESOURCE: runc cannot lower a container's oom_score_adj ("nsexec: failed
  # to update /proc/self/oom_score_adj: Permission denied", every sandbox fails). As on the local
  # cluster (e2e/cluster/NOTES.md), containerd clamps it to its own (kind does the same when rootless).
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "$mnt/etc/containerd/config.toml"
  grep -q 'restrict_oom_score_adj = true' "$mnt/etc/containerd/config.toml"
  # Debian's containerd, runc and CNI plugins where kind's units and config look for them.
  ln -sf /usr/bin/containerd "$mnt/usr/local/bin/containerd"
  ln -sf /usr/bin/ctr "$mnt/usr/local/bin/ctr"
  ln -sf /usr/bin/containerd-shim-runc-v2 "$mnt/usr/local/bin/containerd-shim-runc-v2"
  for p in host-local loopback ptp portmap; do ln -sf "/usr/lib/cni/$p" "$mnt/opt/cni/bin/$p"; done
  # kind's kindnetd is not available (see above): a static CNI config for the node's one pod range.
  cat > "$mnt/etc/cni/net.d/10-capgate-ptp.conflist" <<EOF
{
  "cniVersion": "0.3.1",
  "name": "kind",
  "plugins": [
    {"type": "ptp", "ipMasq": true, "mtu": 1500,
     "ipam": {"type": "host-local", "dataDir": "/run/cni-ipam-state",
              "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
              "ranges": [[{"subnet": "$POD_RANGE4"}], [{"subnet": "$POD_RANGE6"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  "${BUILDAH[@]}" umount "$c" >/dev/null
  # The RUN lines of kind's Dockerfile.
  "${BUILDAH[@]}" run "$c" -- sh -euc '
    find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
    rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/*
    rm -f /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >> /etc/systemd/journald.conf
    ln -sf /usr/lib/systemd/systemd /sbin/init
    systemctl enable kubelet.service containerd.service undo-mount-hacks.service
    systemctl mask systemd-binfmt.service
    ctr oci spec | jq ".hooks.createContainer[.hooks.createContainer| length] |= . + {\"path\": \"/kind/bin/mount-product-files.sh\"}" \
      | jq "del(.process.rlimits)" > /etc/containerd/cri-base.json
    containerd --version'
  "${BUILDAH[@]}" config --env container=docker --stop-signal SIGRTMIN+3 \
    --entrypoint '["/usr/local/bin/entrypoint", "/sbin/init"]' --cmd '' --label "dev.capgate.inputs=$inputs" "$c"
  "${BUILDAH[@]}" commit -q --rm "$c" "$BASE_IMAGE" >/dev/null
  nsay "built $BASE_IMAGE"
}

# --- 2. the images the node's containerd holds ---------------------------------------------------
# image_archive NAME IMAGE FROM BINARY...: a one-layer image of binaries in /usr/local/bin, written
# as a docker-archive (cached by the binaries' hash).
image_archive() {
  local name=$1 image=$2 from=$3; shift 3
  local out=$KIND_CACHE/archives/$name.tar inputs c
  inputs=$(printf '%s\n' "$image" "$from" "$(image_label "$from")" "$(hash_of "$@")" | sha256sum | cut -c1-16)
  if [ -s "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null)" = "$inputs" ]; then echo "$out"; return; fi
  c=$("${BUILDAH[@]}" from --pull=never "$from")
  for b in "$@"; do "${BUILDAH[@]}" copy --chmod 0755 "$c" "$b" /usr/local/bin/ >/dev/null; done
  "${BUILDAH[@]}" config --env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --entrypoint '[]' --cmd '' "$c"
  "${BUILDAH[@]}" commit -q --rm "$c" "$image" >/dev/null
  rm -f "$out"; "${BUILDAH[@]}" push -q "$image" "docker-archive:$out:$image" >/dev/null
  echo "$inputs" > "$out.inputs"
  nsay "image $image ($(du -h "$out" | cut -f1))" 
  echo "$out"
}

etcd_tag() { "$TOOLS_BIN/etcd" --version | awk '/etcd Version/ {print $3"-0"}'; }

build_archives() {
  local bin=$TOOLS_BIN t
  # Named in kind-config.local.yaml's imageRepository (kubeadm then asks the node's containerd for
  # exactly these names and never for a public registry's). Static binaries (CGO_ENABLED=0) on
  # scratch; kube-proxy on the base image's Debian (iptables, conntrack), whose layers the node's
  # containerd shares with nothing else but costs no pull.
  for t in kube-apiserver kube-controller-manager kube-scheduler; do
    image_archive "$t" "$KUBE_IMAGE_REPOSITORY/$t:$KUBE_VERSION" scratch "$bin/$t"
  done
  image_archive kube-proxy "$KUBE_IMAGE_REPOSITORY/kube-proxy:$KUBE_VERSION" "$BASE_IMAGE" "$bin/kube-proxy"
  image_archive etcd "$KUBE_IMAGE_REPOSITORY/etcd:$(etcd_tag)" scratch "$bin/etcd"
  # The sandbox image: hack/images.sh's pause (a static binary of e2e/images/pause/pause.c), which
  # build_node names in the node's containerd config in place of kind's.
  "$REPO_ROOT/hack/images.sh" --archive pause
}

# --- 3. the node image ---------------------------------------------------------------------------
build_node() {
  local archives=("$@") inputs c
  inputs=$(printf '%s\n' "$(image_label "$BASE_IMAGE")" "$(hash_of "$TOOLS_BIN/kubelet" "$TOOLS_BIN/kubectl" "$KIND_CACHE/bin/kubeadm")" \
    "$(cat "${archives[@]/%/.inputs}" 2>/dev/null)" "$(sed -n '/^build_node()/,/^}/p' "$0")" | sha256sum | cut -c1-16)
  if [ "$(image_label "$NODE_IMAGE")" = "$inputs" ]; then nsay "$NODE_IMAGE up to date"; return; fi
  nsay "building $NODE_IMAGE"
  c=capgate-kind-node-build
  podman rm -f "$c" >/dev/null 2>&1 || true
  podman run -d --name "$c" --privileged --entrypoint sleep --tmpfs /tmp --tmpfs /run "$BASE_IMAGE" infinity >/dev/null
  # shellcheck disable=SC2064
  trap "podman rm -f $c >/dev/null 2>&1 || true" RETURN
  for b in kubelet kubectl; do podman cp "$TOOLS_BIN/$b" "$c:/usr/bin/$b"; done
  podman cp "$KIND_CACHE/bin/kubeadm" "$c:/usr/bin/kubeadm"
  podman exec "$c" sh -c "chmod 0755 /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl && echo $KUBE_VERSION > /kind/version"
  podman exec "$c" sed -i -E "s|^( *sandbox_image = ).*|\\1\"$SANDBOX_IMAGE\"|" /etc/containerd/config.toml
  podman exec "$c" grep -qF "sandbox_image = \"$SANDBOX_IMAGE\"" /etc/containerd/config.toml \
    || { nsay "the node's containerd config names no sandbox_image to replace"; exit 1; }
  # kind's containerdImporter: containerd in the build container, images imported pinned, unpacked
  # at the node's start (`ctr version`: containerd 1.6's ctr has no `info`).
  podman exec "$c" bash -c 'nohup containerd > /tmp/containerd.log 2>&1 & for i in $(seq 1 40); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; cat /tmp/containerd.log; exit 1'
  for a in "${archives[@]}"; do
    podman exec -i "$c" ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - < "$a" >/dev/null
  done
  podman exec "$c" ctr --namespace=k8s.io images list -q | sed 's/^/  /' >&2
  podman exec "$c" pkill containerd || true
  sleep 1
  podman commit -q --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' \
    --change 'ENV container=docker' --change 'STOPSIGNAL SIGRTMIN+3' --change "LABEL dev.capgate.inputs=$inputs" \
    "$c" "$NODE_IMAGE" >/dev/null
  nsay "built $NODE_IMAGE"
}

build_kubeadm
build_base
mapfile -t archives < <(build_archives)
build_node "${archives[@]}"
echo "$NODE_IMAGE"
