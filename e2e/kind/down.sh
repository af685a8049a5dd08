#!/usr/bin/env bash
# Deletes the Kind cluster of e2e/kind/up.sh and its state (secrets, kubeconfig, logs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
kind delete cluster --name "${KIND_CLUSTER:-capgate}"
rm -rf "$HERE/.state"
