#!/usr/bin/env bash
# Stops the end-to-end stack: the upstreams and OpenBao (host processes of e2e/stack/stack-up.sh),
# then the cluster (e2e/cluster/cluster-down.sh: pods, the operator, node, control plane, host
# settings). Keeps $STACK_DIR/logs for a look afterwards; `--purge` deletes all of $E2E_DIR.
# Safe to run any number of times. Signals go only to processes whose pid file AND command line
# name $STACK_DIR.
set -euo pipefail
source "$(dirname "$0")/env.sh"
T0=$(date +%s.%N)
[ "$(id -u)" = 0 ] || sdie "run as root"

stop_daemon() {
  local f=$STACK_RUN/$1.pid pid
  if [ -s "$f" ]; then
    pid=$(cat "$f")
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$STACK_DIR"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      ssay "stopped $1 (pid $pid)"
    fi
  fi
  rm -f "$f"
}
stop_daemon grpc
stop_daemon keycloak
stop_daemon s3proxy
stop_daemon upstreams
stop_daemon openbao
# Secrets of this stack die with it: the next stack-up makes new ones.
rm -rf "${STACK_DIR:?}/secrets" "${STACK_DIR:?}/openbao" "${STACK_DIR:?}/pki" "${STACK_DIR:?}/git" "${STACK_DIR:?}/s3proxy" "${STACK_DIR:?}/keycloak" "$STACK_ENV"
"$REPO_ROOT/e2e/cluster/cluster-down.sh" "$@"
left=$(pids_with_arg "$STACK_DIR/")
[ -z "$left" ] || { ssay "WARNING: still running: $left"; exit 1; }
ssay "stack down in $(elapsed "$T0")s"
