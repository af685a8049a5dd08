#!/usr/bin/env bash
# `make e2e`: brings the stack up (e2e/stack/stack-up.sh), runs the *E2E scenarios (JUnit, failsafe
# execution of the e2e profile in e2e/pom.xml) against it, and always brings it down again.
#   CAPGATE_E2E_KEEP=1 make e2e     leave the stack up afterwards (make e2e-down stops it)
#   E2E_TEST=AttackE2E make e2e      one class (failsafe's -Dit.test)
# Logs: e2e/target/e2e-logs (transcript of every command, pod logs, the attack's output),
# e2e/target/e2e-reports (JUnit), /var/lib/capgate-e2e/stack/logs and logs/ (components).
set -uo pipefail
source "$(dirname "$0")/env.sh"
T0=$(date +%s.%N)
# shellcheck disable=SC2317  # reachable: the EXIT trap runs it (shellcheck 0.9 does not see that)
down() {
  if [ "${CAPGATE_E2E_KEEP:-0}" = 1 ]; then
    ssay "stack left up (CAPGATE_E2E_KEEP=1): make e2e-down stops it"
  else
    "$REPO_ROOT/e2e/stack/stack-down.sh" 2>&1 | grep -E 'stack down|WARNING|ERROR' >&2
  fi
}
trap down EXIT
"$REPO_ROOT/e2e/stack/stack-up.sh" || exit 1
t_up=$(elapsed "$T0")
rm -rf "$REPO_ROOT/e2e/target/e2e-logs" "$REPO_ROOT/e2e/target/e2e-reports"
cd "$REPO_ROOT" || exit
t_suite=$(date +%s.%N)
mvn -B -ntp -Dcapgate.tools="${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}" -pl e2e -Pe2e verify \
  -Dcapgate.e2e.stack="$STACK_ENV" ${E2E_TEST:+-Dit.test=$E2E_TEST}
rc=$?
ssay "stack up in ${t_up}s, suite in $(elapsed "$t_suite")s (exit $rc); logs in e2e/target/e2e-logs"
exit $rc
