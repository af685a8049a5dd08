#!/usr/bin/env bash
# `make e2e-kind`: the same JUnit scenarios (*E2E) as `make e2e`, on a Kind cluster.
#   KIND_KEEP=1 make e2e-kind     keep the cluster afterwards (e2e/kind/down.sh deletes it)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
{ command -v docker >/dev/null && docker info >/dev/null 2>&1; } || { echo "make e2e-kind needs a running Docker engine (and kind, the internet): see e2e/kind/README.md" >&2; exit 2; }
command -v kind >/dev/null || { echo "make e2e-kind needs kind on the PATH: see e2e/kind/README.md" >&2; exit 2; }
[ "${KIND_KEEP:-0}" = 1 ] || trap '"$HERE/down.sh"' EXIT
"$HERE/up.sh" || exit 1
cd "$ROOT" || exit
mvn -B -ntp -pl e2e -Pe2e verify -Dcapgate.e2e.stack="$HERE/.state/stack.env" -Dkubeconfig="$HERE/.state/kubeconfig"
