#!/usr/bin/env bash
# The end-to-end stack on Kind (needs docker, kind, kubectl, helm and the internet):
#   a Kind cluster; the images built with Docker (hack/images.sh, same Dockerfiles) and loaded
#   with `kind load`; OpenBao in dev mode as a pod; the upstreams as a pod behind a Service;
#   `helm install capgate charts/capgate`; then OpenBao's JWT auth trusting the operator's session
#   key, the role `capgate-agent` and the policy templated on the session's user (issue 11: no
#   Kubernetes auth, the pods' service account has no Vault login; only the operator vouches).
# Writes e2e/kind/.state/stack.env, the file the JUnit suite reads (dev.capgate.e2e.Stack).
# NOT RUN on the project's machines (no Docker there): see README.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd)
STATE=$HERE/.state; CLUSTER=${KIND_CLUSTER:-capgate}
OPENBAO_IMAGE=${OPENBAO_IMAGE:-quay.io/openbao/openbao:2.4}
for b in docker kind kubectl helm openssl python3; do command -v "$b" >/dev/null || { echo "up.sh: $b is required" >&2; exit 1; }; done
mkdir -p "$STATE/secrets" "$STATE/logs"; chmod 0700 "$STATE"
export KUBECONFIG=$STATE/kubeconfig
say() { printf '[kind] %s\n' "$*" >&2; }

# --- cluster --------------------------------------------------------------------------------------
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --config "$HERE/kind-config.yaml" --kubeconfig "$KUBECONFIG" --wait 120s
fi
kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG" >/dev/null

# --- images: the same Dockerfiles, built with Docker, loaded into the node --------------------------
"$ROOT/hack/images.sh" --no-import java-base agent sidecar operator
docker build -q -f "$HERE/upstreams.Dockerfile" --build-arg BASE_IMAGE=capgate.local/java-base:25 \
  -t capgate.local/upstreams:dev "$ROOT/e2e" >/dev/null
# AdmissionBypassE2E's agents: root by default and USER 1447 (locally derive-user.py makes them from
# the agent's archive; with Docker a one-line build on top of it is as cheap).
printf 'FROM capgate.local/agent:dev\nUSER 0\n' | docker build -q -t capgate.local/agent-root:dev - >/dev/null
printf 'FROM capgate.local/agent:dev\nUSER 1447\n' | docker build -q -t capgate.local/agent-1447:dev - >/dev/null
for i in agent:dev agent-root:dev agent-1447:dev sidecar:dev operator:dev upstreams:dev; do kind load docker-image "capgate.local/$i" --name "$CLUSTER"; done

# --- secrets of this stack (random, kept in .state, never printed) --------------------------------
[ -s "$STATE/secrets/github-token" ] || printf 'ghp_%s' "$(openssl rand -hex 18)" > "$STATE/secrets/github-token"
[ -s "$STATE/secrets/mcp-token" ] || printf 'mcp_%s' "$(openssl rand -hex 18)" > "$STATE/secrets/mcp-token"
[ -s "$STATE/secrets/root-token" ] || printf 'root-%s' "$(openssl rand -hex 16)" > "$STATE/secrets/root-token"

# --- OpenBao, dev mode, in the cluster --------------------------------------------------------------
kubectl create namespace openbao --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n openbao create secret generic openbao-root --from-file=token="$STATE/secrets/root-token" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: openbao, namespace: openbao}
spec:
  selector: {matchLabels: {app: openbao}}
  template:
    metadata: {labels: {app: openbao}}
    spec:
      automountServiceAccountToken: false   # no Kubernetes auth: OpenBao reviews no tokens
      containers:
        - name: openbao
          image: $OPENBAO_IMAGE
          args: [server, -dev, -dev-listen-address=0.0.0.0:8200]
          env:
            - name: BAO_DEV_ROOT_TOKEN_ID
              valueFrom: {secretKeyRef: {name: openbao-root, key: token}}
          readinessProbe: {httpGet: {path: /v1/sys/health, port: 8200}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: openbao, namespace: openbao}
spec:
  selector: {app: openbao}
  ports: [{port: 8200, targetPort: 8200}]
YAML
kubectl -n openbao rollout status deploy/openbao --timeout=180s >/dev/null
bao_ip=$(kubectl -n openbao get svc openbao -o jsonpath='{.spec.clusterIP}')
BAO_ADDR=http://$bao_ip:8200
kubectl -n openbao port-forward svc/openbao 18200:8200 > "$STATE/logs/port-forward.log" 2>&1 &
pf=$!; trap 'kill $pf 2>/dev/null || true' EXIT
for _ in $(seq 1 40); do curl -sf http://127.0.0.1:18200/v1/sys/health >/dev/null && break; sleep 0.5; done
# Secrets, the internal API's identity tokens, the operator's policy and token: the one bootstrap
# of the stack and Kind (e2e/openbao/bootstrap.sh; the sessions' policy comes with the JWT auth
# method, after the chart, since it names that mount's accessor).
bootstrap() { BAO_ADDR=http://127.0.0.1:18200 BAO_TOKEN=$(cat "$STATE/secrets/root-token") "$ROOT/e2e/openbao/bootstrap.sh" "$@"; }
bootstrap base "$STATE/secrets/github-token" "$STATE/secrets/mcp-token" internal-api "$STATE/secrets/operator-token"
say "OpenBao (dev) at $BAO_ADDR configured"

# --- upstreams as a pod --------------------------------------------------------------------------------
pki=$STATE/pki; mkdir -p "$pki"
if [ ! -s "$pki/upstream.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=capgate e2e upstream CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=github.test" -keyout "$pki/upstream.key" -out "$pki/upstream.csr" 2>/dev/null
  openssl x509 -req -in "$pki/upstream.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 -out "$pki/upstream.crt" \
    -extfile <(printf 'subjectAltName=DNS:github.test,DNS:api.github.test,DNS:internal.test,DNS:mcp.test\nextendedKeyUsage=serverAuth\n') 2>/dev/null
fi
kubectl create namespace capgate-upstreams --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n capgate-upstreams create secret tls upstreams-tls --cert="$pki/upstream.crt" --key="$pki/upstream.key" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n capgate-upstreams create secret generic upstreams-tokens --from-file=github-token="$STATE/secrets/github-token" \
  --from-file=mcp-token="$STATE/secrets/mcp-token" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: upstreams, namespace: capgate-upstreams}
spec:
  selector: {matchLabels: {app: upstreams}}
  template:
    metadata: {labels: {app: upstreams}}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: upstreams
          image: capgate.local/upstreams:dev
          imagePullPolicy: Never
          env: [{name: JWKS_URL, value: "$BAO_ADDR/v1/identity/oidc/.well-known/keys"}]
          readinessProbe: {tcpSocket: {port: 8443}, periodSeconds: 2}
          volumeMounts:
            - {name: tls, mountPath: /tls, readOnly: true}
            - {name: tokens, mountPath: /secrets, readOnly: true}
      volumes:
        - {name: tls, secret: {secretName: upstreams-tls}}
        - {name: tokens, secret: {secretName: upstreams-tokens}}
---
apiVersion: v1
kind: Service
metadata: {name: upstreams, namespace: capgate-upstreams}
spec:
  selector: {app: upstreams}
  ports: [{name: https, port: 443, targetPort: 8443}]
YAML
kubectl -n capgate-upstreams rollout status deploy/upstreams --timeout=180s >/dev/null
upstream_ip=$(kubectl -n capgate-upstreams get svc upstreams -o jsonpath='{.spec.clusterIP}')
say "upstreams at $upstream_ip:443"

# --- the chart --------------------------------------------------------------------------------------
kubectl create namespace capgate-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n capgate-system create secret generic capgate-operator-vault --from-file=token="$STATE/secrets/operator-token" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
helm upgrade --install capgate "$ROOT/charts/capgate" -n capgate-system --wait --timeout 300s \
  --set vault.address="$BAO_ADDR" --set vault.operatorToken.secretName=capgate-operator-vault \
  --set image.repository=capgate.local/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set sidecar.image.repository=capgate.local/sidecar --set sidecar.image.tag=dev --set sidecar.image.pullPolicy=Never \
  --set sidecar.upstreamCA.configMap=capgate-upstream-ca > "$STATE/logs/helm.log"

# --- Vault trusts the operator's session JWTs (issue 11) ------------------------------------------
# public.pem of the Secret the operator creates at its first start (<fullname>-session-signer).
public_pem=
for _ in $(seq 1 120); do
  public_pem=$(kubectl -n capgate-system get secret capgate-session-signer -o jsonpath='{.data.public\.pem}' 2>/dev/null \
    | base64 -d 2>/dev/null) || true
  [ -n "$public_pem" ] && break
  sleep 0.5
done
[ -n "$public_pem" ] || { echo "up.sh: no public.pem in Secret capgate-system/capgate-session-signer" >&2; exit 1; }
bootstrap session-auth capgate-jwt capgate-agent <(printf '%s\n' "$public_pem") capgate internal-api >/dev/null
say "OpenBao JWT auth at auth/capgate-jwt: the operator's session key, role capgate-agent, policy templated on the user"

node_ip=$(kubectl get node -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
gateway=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -v : | head -1)
cat > "$STATE/stack.env" <<ENV
# Written by e2e/kind/up.sh (see e2e/stack/stack-up.sh for the meaning of each key).
KUBECONFIG=$KUBECONFIG
CAPGATE_E2E_KUBECTL=$(command -v kubectl)
CAPGATE_E2E_NODE_IP=$node_ip
CAPGATE_E2E_APISERVER_PORT=6443
CAPGATE_E2E_CANARY_HOST=$gateway
CAPGATE_E2E_UPSTREAM_IP=$upstream_ip
CAPGATE_E2E_UPSTREAM_CA=$pki/ca.crt
CAPGATE_E2E_UPSTREAM_CA_CONFIGMAP=capgate-upstream-ca
CAPGATE_E2E_VAULT_ADDR=$BAO_ADDR
CAPGATE_E2E_VAULT_ROLE=capgate-agent
CAPGATE_E2E_AGENT_SERVICE_ACCOUNT=agent
CAPGATE_E2E_OIDC_ROLE=internal-api
CAPGATE_E2E_SYSTEM_NAMESPACE=capgate-system
CAPGATE_E2E_SECRET_FILES="$STATE/secrets/github-token $STATE/secrets/mcp-token $STATE/secrets/root-token $STATE/secrets/operator-token"
CAPGATE_E2E_LOG_DIRS="$STATE/logs"
CAPGATE_E2E_LOG_PODS="openbao/app=openbao capgate-upstreams/app=upstreams"
ENV
say "stack up: $STATE/stack.env (KUBECONFIG=$KUBECONFIG)"
