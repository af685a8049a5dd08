# shellcheck shell=bash disable=SC2034
# Settings of the Kind stack (e2e/kind/up.sh, run.sh, down.sh). Nothing the local stack also uses is
# spelt here: the names and the upstreams' hosts come from e2e/stack/shared.env, the versions from
# hack/tools.sh (what `make tools` builds and the local stack runs). StackConsistencyTest (make test)
# keeps it that way.
KIND_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$KIND_HERE/../.." && pwd)
source "$REPO_ROOT/e2e/stack/shared.env"
eval "$(grep -E '^(KUBE|OPENBAO|KIND)_VERSION=' "$REPO_ROOT/hack/tools.sh")"

KIND_CLUSTER=${KIND_CLUSTER:-capgate}
STATE=$KIND_HERE/.state
# Docker where there is one, podman otherwise (kind's podman provider).
if [ -z "${KIND_ENGINE:-}" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then KIND_ENGINE=docker; else KIND_ENGINE=podman; fi
fi
[ "$KIND_ENGINE" = podman ] && export KIND_EXPERIMENTAL_PROVIDER=podman
# Docker (and the internet): the public images, kindest/node and OpenBao's. Podman here (no registry):
# images built from the repository alone, cached: the node image by e2e/kind/node-image.sh (then
# kind-config.local.yaml), OpenBao from make tools' bao. Either way Kubernetes $KUBE_VERSION and
# OpenBao $OPENBAO_VERSION, the versions of hack/tools.sh.
if [ "$KIND_ENGINE" = docker ]; then
  KIND_NODE_IMAGE=${KIND_NODE_IMAGE:-kindest/node:$KUBE_VERSION}
  OPENBAO_IMAGE=${OPENBAO_IMAGE:-openbao/openbao:$OPENBAO_VERSION}
  KIND_CONFIG=$KIND_HERE/kind-config.yaml
else
  KIND_NODE_IMAGE=${KIND_NODE_IMAGE:-capgate.local/kind-node:$KUBE_VERSION}
  OPENBAO_IMAGE=${OPENBAO_IMAGE:-capgate.local/openbao:$OPENBAO_VERSION}
  KIND_CONFIG=$KIND_HERE/kind-config.local.yaml
fi
UPSTREAMS_IMAGE=capgate.local/upstreams:dev
# s3proxy's class path (make tools), copied into the upstreams image: the S3 server of CloudCredentialsE2E.
S3PROXY_LIB=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/s3proxy/lib
TOOLS_BIN=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/bin
export PATH=$TOOLS_BIN:$PATH   # kind, kubectl, helm of make tools first
IMAGE_CACHE=${CAPGATE_IMAGE_CACHE:-$HOME/.cache/capgate/images}
ksay() { printf '[kind] %s\n' "$*" >&2; }
kdie() { printf '[kind] ERROR: %s\n' "$*" >&2; exit 1; }
