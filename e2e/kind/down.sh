#!/usr/bin/env bash
# Deletes the Kind cluster of e2e/kind/up.sh and its state (secrets, kubeconfig, logs).
set -euo pipefail
source "$(dirname "$0")/env.sh"
kind delete cluster --name "$KIND_CLUSTER"
rm -rf "$STATE"
