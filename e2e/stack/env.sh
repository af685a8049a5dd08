# shellcheck shell=bash disable=SC2034
# Settings of the end-to-end stack (cluster + OpenBao + upstreams + the chart); sourced by
# stack-up.sh, stack-down.sh and hack/demo.sh. Builds on e2e/cluster/env.sh (the node, its
# ranges, $E2E_DIR). Everything the stack writes lives under $STACK_DIR.
source "$(dirname "${BASH_SOURCE[0]}")/../cluster/env.sh"
# Host list and object names shared with Kind (e2e/kind/up.sh): UPSTREAM_HOSTS, RELEASE, VAULT_ROLE, ...
source "$(dirname "${BASH_SOURCE[0]}")/shared.env"

STACK_DIR=$E2E_DIR/stack
STACK_LOGS=$STACK_DIR/logs
STACK_RUN=$STACK_DIR/run
# What the JUnit suite (and anyone else) reads to find the stack: KEY=VALUE lines.
STACK_ENV=$STACK_DIR/stack.env

# OpenBao: a host process on the node address (pods reach it at the node IP, agents are stopped by
# their sidecar's iptables before they do), over TLS with a private CA of the stack's own, as a
# cluster's Vault would be (issue 14): the chart's vault.caCert gives that CA to the operator and,
# through the webhook, to every sidecar.
BAO_PORT=${CAPGATE_BAO_PORT:-18200}
BAO_CLUSTER_PORT=$((BAO_PORT + 1))
BAO_ADDR=https://$NODE_IP:$BAO_PORT
BAO_DIR=$STACK_DIR/openbao
# The CA of OpenBao's certificate (public): curl --cacert, the bao CLI (BAO_CACERT), the ConfigMap.
BAO_CACERT=$BAO_DIR/tls/ca.crt
# The upstreams (Git host, GitHub-style API, JWT API, MCP, package sources): one HTTPS host process on the node
# address, behind the selector-less Service upstreams/upstreams:443.
UPSTREAM_PORT=${CAPGATE_UPSTREAM_PORT:-18443}
# s3proxy (issue 15): a real S3 server that checks every SigV4 signature itself, HTTPS on the node
# address with a certificate for $S3_HOST from the upstreams' CA, behind the selector-less Service
# s3.$UPSTREAM_NAMESPACE:443 (its own ClusterIP: agents map $S3_HOST to it with hostAliases).
S3_PORT=${CAPGATE_S3_PORT:-18445}
S3_DIR=$STACK_DIR/s3proxy
S3PROXY_LIB=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/s3proxy/lib
# Keycloak (issue 15 §3, OAuthE2E): the OAuth authorization server, HTTPS only on the node address
# with a certificate for $AUTH_HOST from the upstreams' CA, behind the selector-less Service
# auth.$UPSTREAM_NAMESPACE:443 (its own ClusterIP, so its own hostAlias). In-memory database: a
# restart is a fresh realm. Dev mode opens plain HTTP too, whatever --http-enabled says: on its own
# port, which no Service names.
KC_VERSION=26.5.6
KC_HOME=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/keycloak/$KC_VERSION
KC_PORT=${CAPGATE_KC_PORT:-18446}
KC_MGMT_PORT=$((KC_PORT + 1))
KC_HTTP_PORT=$((KC_PORT + 2))
KC_DIR=$STACK_DIR/keycloak
# The gRPC upstream of GrpcE2E (issue 16 §6): make tools' grpc-testserver (grpc-go's interop
# TestService + reflection, every call without alice's gRPC token refused) as a host process, TLS
# on the node address with a certificate for $GRPC_HOST from the upstreams' CA, behind the
# selector-less Service grpc.$UPSTREAM_NAMESPACE:443 (its own ClusterIP, so its own hostAlias).
GRPC_PORT=${CAPGATE_GRPC_PORT:-18450}
GRPC_DIR=$STACK_DIR/grpc

JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/java" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
HELM=$TOOLS_BIN/helm

ssay() { printf '[stack %6ss] %s\n' "$(elapsed "${T0:-$(date +%s.%N)}")" "$*" >&2; }
sdie() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
