#!/usr/bin/env bash
# `make demo`: until the end-to-end stack lands (issue 6) this tells the story it will show.
set -euo pipefail
cat <<'TXT'
Capgate demo — what `make demo` will show once the local single-node cluster lands:

  1. kubectl apply -f crds/examples/fix-issue-42.yaml      (an AgentSession for alice's coding agent)
  2. kubectl apply an agent pod annotated capgate.dev/inject=true, capgate.dev/session=fix-issue-42
     → the webhook adds capgate-init (iptables) and the capgate-proxy native sidecar, a per-pod CA,
       and no service-account token for the agent
  3. the agent clones acme/repo-a and calls the GitHub-style API: 200, with a token it never saw
     (its environment and files hold none)
  4. the agent calls a host or path outside the session: 403 with a JSON error naming the rule
  5. kubectl delete agentsession fix-issue-42 → the next call is denied within a second

Today: `make test` runs the API, sidecar and operator tests on a real kube-apiserver, OpenBao and
iptables in network namespaces.
TXT
