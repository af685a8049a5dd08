#!/usr/bin/env bash
# `make demo`: the Capgate story on a real single-node cluster (no Docker), told as it happens.
#   make demo                       (builds what is missing, brings the stack up, tells, tears down)
#   CAPGATE_DEMO_KEEP=1 make demo   leave the stack up afterwards (make e2e-down stops it)
# Needs `make tools` once; `make demo` itself runs `make build images` (cached: seconds when
# nothing changed). Everything real: kube-apiserver + kubelet + containerd, the operator as a pod
# installed by the Helm chart, OpenBao, a Git host running `git http-backend`, a GitHub-style API.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/e2e/stack/env.sh"
export KUBECONFIG=$KUBECONFIG_ADMIN PATH=$TOOLS_BIN:$PATH
NS=agents
POD=coding-agent
SESSION=fix-issue-42
WORK=$(mktemp -d /tmp/capgate-demo.XXXXXX)
DEMO_T0=$(date +%s.%N)

if [ -t 1 ] || [ -n "${FORCE_COLOR:-}" ]; then
  B=$'\e[1m' DIM=$'\e[2m' CYAN=$'\e[1;36m' GREEN=$'\e[1;32m' RED=$'\e[1;31m' YELLOW=$'\e[33m' R=$'\e[0m'
else
  B='' DIM='' CYAN='' GREEN='' RED='' YELLOW='' R=''
fi
clock() { awk -v a="$DEMO_T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%5.1fs", b - a }'; }
step() { printf '\n%s━━ %s  %s%s\n' "$CYAN" "$(clock)" "$*" "$R"; }
note() { printf '%s   %s%s\n' "$YELLOW" "$*" "$R"; }
ok() { printf '%s   ✔ %s%s\n' "$GREEN" "$*" "$R"; }
bad() { printf '%s   ✘ %s%s\n' "$RED" "$*" "$R"; FAILED=1; }
# Shows the command, runs it, indents its real output. Returns the command's status.
run() {
  printf '%s   $ %s%s\n' "$B" "$*" "$R"
  local rc=0
  "$@" > "$WORK/out" 2>&1 || rc=$?
  sed 's/^/     /' "$WORK/out"
  return $rc
}
# The same inside the agent container (as the agent: uid 1000, no credentials).
agent() {
  printf '%s   agent$ %s%s\n' "$B" "$*" "$R"
  local rc=0
  kubectl -n "$NS" exec "$POD" -c agent -- sh -c "$*" > "$WORK/out" 2>&1 || rc=$?
  sed 's/^/     /' "$WORK/out"
  return $rc
}
FAILED=0
cleanup() {
  local rc=$?
  rm -rf "$WORK"
  if [ "${CAPGATE_DEMO_KEEP:-0}" = 1 ]; then
    printf '\n%sThe stack stays up (CAPGATE_DEMO_KEEP=1): export KUBECONFIG=%s; make e2e-down stops it.%s\n' "$DIM" "$KUBECONFIG" "$R"
  else
    step "Shutting everything down (make e2e-down)"
    "$ROOT/e2e/stack/stack-down.sh" 2>&1 | grep -E 'stack down|WARNING|ERROR' | sed 's/^/     /' || true
  fi
  printf '\n%sdemo finished in %s%s\n' "$B" "$(clock)" "$R"
  exit $rc
}
trap cleanup EXIT

printf '%sCapgate demo%s — an AI agent in a pod calls private GitHub-style services with a credential it never holds.\n' "$B" "$R"

# --- 0. the stack -------------------------------------------------------------------------------
step "0. The stack: a real node (kubelet + containerd), OpenBao, the upstreams, the Helm chart"
note "make e2e-up: e2e/cluster/cluster-up.sh, hack/images.sh, OpenBao (raft, JWT auth trusting the operator's session key), upstreams, helm install capgate charts/capgate"
"$ROOT/e2e/stack/stack-up.sh" > "$WORK/stack-up.log" 2>&1 || { tail -30 "$WORK/stack-up.log"; exit 1; }
grep -E '^\[stack' "$WORK/stack-up.log" | sed 's/^/     /'
# shellcheck source=/dev/null  # stack.env is written by stack-up.sh at run time
source "$STACK_ENV"
GITHUB_TOKEN_FILE=$STACK_DIR/secrets/github-token
run kubectl get nodes -o wide
run kubectl -n "$SYSTEM_NAMESPACE" get pods,svc
run helm --kubeconfig "$KUBECONFIG" -n "$SYSTEM_NAMESPACE" list
note "Vault holds alice's GitHub token at secret/data/github/alice@example.com (random for this run; the demo never prints it)."

# Platform setup for the agents' namespace: a service account (the Vault role is bound to it) and
# the upstreams' test CA for the sidecar (sidecar.upstreamCA.configMap in the chart).
kubectl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl create namespace "$NS" >/dev/null
kubectl -n "$NS" create serviceaccount "$AGENT_SERVICE_ACCOUNT" >/dev/null
kubectl -n "$NS" create configmap "$UPSTREAM_CA_CONFIGMAP" --from-file=ca.crt="$CAPGATE_E2E_UPSTREAM_CA" >/dev/null

# --- 1. the session -----------------------------------------------------------------------------
step "1. Alice delegates: an AgentSession for her coding agent, issue 42 of acme/repo-a"
cat > "$WORK/session.yaml" <<'EOF'
apiVersion: capgate.dev/v1alpha1
kind: AgentSession
metadata: {name: fix-issue-42, namespace: agents}
spec:
  user: alice@example.com
  agent: coding-agent
  project: payments
  ttl: 2h
  vault: {role: capgate-agent}
  credentials:
    - name: github                  # the same token, two ways of presenting it
      vault: {path: "secret/data/github/{{user}}", field: token}
      inject: {type: bearer}
    - name: github-git
      vault: {path: "secret/data/github/{{user}}", field: token}
      inject: {type: basic, username: x-access-token}
  egress:                           # first match wins; no match = deny
    - name: github-api
      hosts: [api.github.test]
      methods: [GET, POST]
      paths: ["/repos/acme/repo-a", "/repos/acme/repo-a/**"]
      credential: github
    - name: git-fetch               # clone and fetch; no git-receive-pack, so no push
      hosts: [github.test]
      methods: [GET, POST]
      paths: ["/acme/repo-a.git/info/refs", "/acme/repo-a.git/git-upload-pack"]
      credential: github-git
EOF
sed 's/^/     /' "$WORK/session.yaml"
run kubectl apply -f "$WORK/session.yaml"
for _ in $(seq 1 60); do
  [ "$(kubectl -n "$NS" get agentsession "$SESSION" -o jsonpath='{.status.phase}')" = Active ] && break; sleep 0.5
done
run kubectl -n "$NS" get agentsessions

# --- 2. admission ---------------------------------------------------------------------------------
step "2. The agent's pod asks for Capgate (label capgate.dev/inject) and the webhook injects it"
cat > "$WORK/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $POD
  namespace: $NS
  labels: {capgate.dev/inject: "true", capgate.dev/session: $SESSION}
spec:
  serviceAccountName: $AGENT_SERVICE_ACCOUNT
  terminationGracePeriodSeconds: 2
  # No cluster DNS on this node: the names resolve to the upstreams' Service, as DNS would.
  hostAliases: [{ip: "$CAPGATE_E2E_UPSTREAM_IP", hostnames: [github.test, api.github.test, internal.test, mcp.test]}]
  containers:
    - name: agent                   # git, curl, python3; no credentials at all
      image: capgate.local/agent:dev
      imagePullPolicy: Never
      securityContext: {runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false}
EOF
sed 's/^/     /' "$WORK/pod.yaml"
t_pod=$(date +%s.%N)
run kubectl create -f "$WORK/pod.yaml"
run kubectl -n "$NS" wait --for=condition=Ready "pod/$POD" --timeout=120s
note "Ready $(awk -v a="$t_pod" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after apply (init ran iptables, the sidecar started before the agent)"
run kubectl -n "$NS" get pod "$POD" -o jsonpath='{range .spec.initContainers[*]}init container {.name}: {.image} {.args} restartPolicy={.restartPolicy} user={.securityContext.runAsUser} caps={.securityContext.capabilities.add}{"\n"}{end}{range .spec.containers[*]}container {.name}: {.image}{"\n"}{end}'
run kubectl -n "$NS" get pod "$POD" -o jsonpath='automountServiceAccountToken: {.spec.automountServiceAccountToken}{"\n"}agent mounts: {range .spec.containers[0].volumeMounts[*]}{.mountPath} {end}{"\n"}sidecar mounts: {range .spec.initContainers[1].volumeMounts[*]}{.mountPath} {end}{"\n"}'
run kubectl -n "$NS" get pod "$POD" -o jsonpath='{.metadata.annotations}{"\n"}'

# --- 3. inside the agent ----------------------------------------------------------------------------
step "3. Inside the agent: nothing to steal"
agent 'id; env | sort'
agent 'ls -l /var/run/secrets/kubernetes.io/serviceaccount/ 2>&1; ls /var/run/secrets/ 2>&1' || true
note "every file the agent can read (plus its processes' environments), streamed out and searched for the token on the host:"
printf '%s   $ kubectl exec %s -c agent -- tar -c / (readable files, no /proc /sys) | grep -c <github token>%s\n' "$B" "$POD" "$R"
kubectl -n "$NS" exec "$POD" -c agent -- sh -c 'tar -c --exclude=/proc --exclude=/sys --exclude=/dev / 2>/dev/null; cat /proc/[0-9]*/environ 2>/dev/null; env' \
  > "$WORK/agent-files" 2>/dev/null || true
hits=$(grep -c -aF -f "$GITHUB_TOKEN_FILE" "$WORK/agent-files" || true)
printf '     %s bytes searched, %s matches\n' "$(wc -c < "$WORK/agent-files")" "$hits"
if [ "$hits" = 0 ]; then ok "the agent holds no credential"; else bad "the token is readable in the agent container"; fi

# --- 4. allowed calls ---------------------------------------------------------------------------------
step "4. Allowed calls succeed, with a credential the agent never saw"
if agent 'git clone https://github.test/acme/repo-a.git /tmp/repo-a && git -C /tmp/repo-a log --oneline && head -3 /tmp/repo-a/README.md'; then
  ok "git clone through the sidecar (Basic auth injected)"
else
  bad "clone failed"
fi
agent 'curl -sS -w "\nHTTP %{http_code}\n" https://api.github.test/repos/acme/repo-a' || true
if grep -q 'HTTP 200' "$WORK/out"; then ok "GET /repos/acme/repo-a: 200 (Bearer injected)"; else bad "GET repo-a was not 200"; fi
agent 'curl -sS -w "\nHTTP %{http_code}\n" -X POST -d "{\"title\":\"Fix issue 42\",\"head\":\"fix-42\",\"base\":\"main\"}" https://api.github.test/repos/acme/repo-a/pulls' || true
if grep -q 'HTTP 201' "$WORK/out"; then ok "pull request opened: 201"; else bad "POST pulls was not 201"; fi
note "what the upstreams saw (their access log) and what the sidecar recorded (audit, no secret):"
tail -3 "$STACK_LOGS/upstreams.log" | sed 's/^/     /'
kubectl -n "$NS" logs "$POD" -c capgate-proxy | grep '"decision":"allow"' | tail -2 | cut -c1-330 | sed 's/^/     /'

# --- 5. denied calls ----------------------------------------------------------------------------------
step "5. Anything else is denied, with a machine-readable error"
agent 'curl -sS -w "\nHTTP %{http_code}\n" -X DELETE https://api.github.test/repos/acme/repo-a' || true
if grep -q 'HTTP 403' "$WORK/out"; then ok "deleting the repo (admin operation): 403"; else bad "DELETE was not denied"; fi
# The denial's requestId (RFC 9457 body), for `kubectl capgate explain` in step 5b.
request_id=$(grep -o '"requestId":"[^"]*"' "$WORK/out" | head -1 | cut -d'"' -f4 || true)
agent 'curl -sS -w "\nHTTP %{http_code}\n" https://api.github.test/repos/acme/repo-b' || true
if grep -q 'HTTP 403' "$WORK/out"; then ok "another repository: 403"; else bad "repo-b was not denied"; fi
agent 'cd /tmp/repo-a && echo fix >> README.md && git -c user.name=agent -c user.email=agent@acme.test commit -qam "fix issue 42" && git push origin HEAD:main' || true
if grep -q '403' "$WORK/out"; then ok "git push: refused (git-receive-pack is not in the session)"; else bad "push was not denied"; fi
agent 'curl -sS -m 5 -k '"$BAO_ADDR"'/v1/secret/data/github/alice@example.com; echo; getent hosts exfil.attacker.example || echo "DNS: NXDOMAIN"' || true
# Vault is not in the session: over http the sidecar answers 403 (JSON), over https (the stack's
# OpenBao has its own CA) it refuses the TLS handshake with an access_denied alert.
if grep -qE '"error"|alert access denied' "$WORK/out" && grep -q NXDOMAIN "$WORK/out"; then
  ok "Vault directly: refused by the sidecar (403, or a TLS access_denied alert over https); DNS outside the session: NXDOMAIN"
else bad "Vault or DNS not blocked"; fi

# --- 5b. the platform team's view ---------------------------------------------------------------------
step "5b. What the platform team sees: kubectl capgate (the plugin in cli/, read through the API server)"
# The sidecars report their counts every 5 s at most; the operator sums them into the session status.
sleep 6
PATH=$ROOT/cli:$PATH run kubectl capgate status "$SESSION" -n "$NS" || true
if grep -qiE 'denied|denial' "$WORK/out"; then ok "status: the session's pods, phase and recent denials"; else bad "kubectl capgate status showed no denials"; fi
if [ -n "$request_id" ]; then
  PATH=$ROOT/cli:$PATH run kubectl capgate explain "$request_id" -n "$NS" || true
  if grep -q 'decision   deny' "$WORK/out"; then ok "explain $request_id: the DELETE, the rule and why"; else bad "kubectl capgate explain did not find $request_id"; fi
else bad "the DELETE's 403 carried no requestId"; fi

# --- 6. revocation ------------------------------------------------------------------------------------
step "6. Alice revokes: kubectl delete agentsession — the very next call is denied"
# The agent calls in a loop; the loop stops at the first answer that is not 200 and says when.
# shellcheck disable=SC2016  # the agent's shell expands $(curl ...), not this one
kubectl -n "$NS" exec "$POD" -c agent -- sh -c 'while [ "$(curl -s -o /dev/null -w "%{http_code}" https://api.github.test/repos/acme/repo-a)" = 200 ]; do :; done; date +%s.%N' \
  > "$WORK/denied-at" 2>&1 &
poller=$!
sleep 1.5
t_delete=$(date +%s.%N)
run kubectl -n "$NS" delete agentsession "$SESSION" --wait=false
t_accepted=$(date +%s.%N)
wait "$poller" || true
denied_at=$(tail -1 "$WORK/denied-at")
delay=$(awk -v a="$t_delete" -v b="$denied_at" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
delay_api=$(awk -v a="$t_accepted" -v b="$denied_at" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
agent 'curl -sS -w "\nHTTP %{http_code}\n" https://api.github.test/repos/acme/repo-a' || true
# With no session left the sidecar intercepts nothing: the TLS handshake itself is refused.
if [ "$delay_api" -ge 0 ]; then after_return="${delay_api} ms after it returned"; else after_return="before kubectl had even returned"; fi
if grep -qE 'HTTP 403|access denied' "$WORK/out"; then
  ok "first denied request ${delay} ms after kubectl delete started ($after_return)"
else
  bad "still allowed after revocation"
fi
# The log read once, into a file: `grep -m1` on a live pipe would stop kubectl with SIGPIPE (pipefail).
kubectl -n "$NS" logs "$POD" -c capgate-proxy > "$WORK/proxy.log"
grep -iE 'denying all traffic|revoked' "$WORK/proxy.log" | tail -2 | cut -c1-300 | sed 's/^/     /'
gate_ts=$(grep -m1 'denying all traffic' "$WORK/proxy.log" | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
if [ -n "$gate_ts" ]; then
  note "the sidecar switched to deny $(awk -v a="$t_delete" -v b="$(date -d "$gate_ts" +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms after kubectl delete started (its own log); the agent's loop saw it at ${delay} ms"
fi
run kubectl -n "$NS" get agentsessions,secrets,configmaps

if [ "$FAILED" = 0 ]; then
  printf '\n%sEverything happened as it should: allowed with an injected credential, denied otherwise, revoked in %s ms.%s\n' "$GREEN" "$delay" "$R"
else
  printf '\n%sSome step did not go as expected (see ✘ above).%s\n' "$RED" "$R"
  exit 1
fi
