#!/usr/bin/env bash
# `make e2e-kind`: the same JUnit scenarios (*E2E) as `make e2e`, on a Kind cluster (Docker, or podman
# through kind's podman provider).
#   KIND_KEEP=1 make e2e-kind     keep the cluster afterwards (e2e/kind/down.sh deletes it)
set -uo pipefail
source "$(dirname "$0")/env.sh"
command -v kind >/dev/null || { echo "make e2e-kind needs kind on the PATH (make tools builds it into $TOOLS_BIN): see e2e/kind/README.md" >&2; exit 2; }
"$KIND_ENGINE" info >/dev/null 2>&1 || { echo "make e2e-kind needs a working $KIND_ENGINE: see e2e/kind/README.md" >&2; exit 2; }
[ "${KIND_KEEP:-0}" = 1 ] || trap '"$KIND_HERE/down.sh"' EXIT
"$KIND_HERE/up.sh" || exit 1
cd "$REPO_ROOT" || exit
# Not on Kind (yet), said here, not skipped silently (e2e/README.md, "Kind parity"): OAuthE2E needs
# the authorization server (Keycloak) that only the local stack starts (e2e/stack/stack-up.sh); the
# issue 16 scenarios (GitPushE2E reads the Git host's refs from the host's disk, ApprovalE2E calls
# the API server from the host) have run on the local stack only so far; McpE2E needs the MCP SDK
# in the agent image, which agent/Dockerfile installs but no Kind build has proven yet; GrpcE2E
# needs the gRPC test server (grpc.test) that only the local stack starts, and grpcurl, which only
# hack/images.sh's buildah path copies into the agent image (agent/Dockerfile has none yet).
KIND_EXCLUDED=(OAuthE2E GitPushE2E LimitsE2E LearnModeE2E ApprovalE2E McpE2E GrpcE2E)
echo "[kind] not run on Kind: OAuthE2E (needs the local stack's Keycloak); GitPushE2E LimitsE2E LearnModeE2E ApprovalE2E McpE2E (not yet run on Kind); GrpcE2E (needs the local stack's gRPC test server grpc.test and grpcurl in the agent image); e2e/README.md, \"Kind parity\"" >&2
mvn -B -ntp -pl e2e -Pe2e verify -Dcapgate.e2e.stack="$STATE/stack.env" -Dkubeconfig="$STATE/kubeconfig" \
  "-Dit.test=*E2E$(printf ', !%s' "${KIND_EXCLUDED[@]}")"
