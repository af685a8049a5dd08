#!/usr/bin/env bash
# The end-to-end stack on Kind (Docker, or podman with kind's podman provider; kind, kubectl, helm):
#   a Kind cluster (Kubernetes $KUBE_VERSION of hack/tools.sh); the images built by hack/images.sh
#   (same Dockerfiles) and loaded with `kind load image-archive`; OpenBao $OPENBAO_VERSION (in-memory,
#   initialized and unsealed here) over TLS as a pod; the upstreams as a pod behind a Service;
#   `helm install capgate charts/capgate`; then OpenBao's JWT auth trusting the operator's session
#   key, the role `capgate-agent` and the policy templated on the session's user (issue 11: no
#   Kubernetes auth, the pods' service account has no Vault login; only the operator vouches).
# Writes e2e/kind/.state/stack.env, the file the JUnit suite reads (dev.capgate.e2e.Stack).
# See README.md (podman here, Docker elsewhere; what comes from where).
set -euo pipefail
source "$(dirname "$0")/env.sh"
for b in "$KIND_ENGINE" kind kubectl helm openssl python3 curl; do command -v "$b" >/dev/null || kdie "$b is required"; done
mkdir -p "$STATE/secrets" "$STATE/logs" "$STATE/images"; chmod 0700 "$STATE"
export KUBECONFIG=$STATE/kubeconfig
ROOT=$REPO_ROOT

# --- cluster --------------------------------------------------------------------------------------
config=$STATE/kind-config.yaml
if [ "$KIND_ENGINE" = podman ]; then
  # kind's podman provider mounts /lib/modules read-only into the node; this VM has none
  # ("Error: statfs /lib/modules: no such file or directory"). An empty one is what the node sees anyway.
  [ -d /lib/modules ] || mkdir -p /lib/modules || kdie "kind needs /lib/modules on the host: mkdir -p /lib/modules"
  # No registry: the node image and OpenBao's built here (cached; seconds when nothing changed).
  "$KIND_HERE/node-image.sh" >/dev/null
  "$KIND_HERE/openbao-image.sh" >/dev/null
  etcd_tag=$("$TOOLS_BIN/etcd" --version | awk '/etcd Version/ {print $3"-0"}')
else
  etcd_tag=
fi
audit_dir=$STATE/logs/openbao-audit
mkdir -p "$audit_dir"; chmod 0777 "$audit_dir"   # OpenBao's uid writes there, through the node
sed -e "s|@ETCD_IMAGE_TAG@|$etcd_tag|" -e "s|@AUDIT_DIR@|$audit_dir|" "$KIND_CONFIG" > "$config"
if ! kind get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  kind create cluster --name "$KIND_CLUSTER" --image "$KIND_NODE_IMAGE" --config "$config" \
    --kubeconfig "$KUBECONFIG" --wait 180s
fi
kind export kubeconfig --name "$KIND_CLUSTER" --kubeconfig "$KUBECONFIG" >/dev/null
if [ "$KIND_ENGINE" = podman ]; then
  # No DNS add-on, as on the local cluster (pods get hostAliases): CoreDNS's image is not built.
  kubectl -n kube-system scale deploy coredns --replicas=0 >/dev/null 2>&1 || true
  rm -f "$STATE/images/openbao.tar"
  podman save --format docker-archive -o "$STATE/images/openbao.tar" "$OPENBAO_IMAGE" >/dev/null
  kind load image-archive "$STATE/images/openbao.tar" --name "$KIND_CLUSTER"
fi

# --- images: the local stack's (hack/images.sh, same Dockerfiles), loaded into the node ------------
# --archive: docker-archives in $IMAGE_CACHE/archives, the agent's root and 1447 variants included
# (the same archives the local stack imports into its containerd).
mapfile -t archives < <("$ROOT/hack/images.sh" --archive java-base agent sidecar operator)
# The upstreams: e2e/kind/upstreams.Dockerfile on the java-base image, built by the same engine.
upstreams_archive=$STATE/images/upstreams.tar
[ -f "$S3PROXY_LIB/s3proxy-2.6.0.jar" ] || kdie "$S3PROXY_LIB/s3proxy-2.6.0.jar missing: run 'make tools' first"
rm -rf "$ROOT/e2e/target/s3proxy-lib"; cp -a "$S3PROXY_LIB" "$ROOT/e2e/target/s3proxy-lib"
if [ "$KIND_ENGINE" = docker ]; then
  docker build -q -f "$KIND_HERE/upstreams.Dockerfile" --build-arg BASE_IMAGE=capgate.local/java-base:25 \
    -t "$UPSTREAMS_IMAGE" "$ROOT/e2e" >/dev/null
  docker save -o "$upstreams_archive" "$UPSTREAMS_IMAGE"
else
  # hack/images.sh's buildah store (vfs, chroot isolation), where java-base is.
  buildah=(buildah --root "$IMAGE_CACHE/buildah/storage" --runroot "$IMAGE_CACHE/buildah/run" --storage-driver vfs)
  BUILDAH_ISOLATION=chroot "${buildah[@]}" bud -q --pull=never -f "$KIND_HERE/upstreams.Dockerfile" \
    --build-arg BASE_IMAGE=capgate.local/java-base:25 -t "$UPSTREAMS_IMAGE" "$ROOT/e2e" >/dev/null
  rm -f "$upstreams_archive"
  "${buildah[@]}" push -q "$UPSTREAMS_IMAGE" "docker-archive:$upstreams_archive:$UPSTREAMS_IMAGE" >/dev/null
fi
for a in "${archives[@]}" "$upstreams_archive"; do kind load image-archive "$a" --name "$KIND_CLUSTER"; done

# --- secrets of this stack (random, kept in .state, never printed) --------------------------------
[ -s "$STATE/secrets/github-token" ] || printf 'ghp_%s' "$(openssl rand -hex 18)" > "$STATE/secrets/github-token"
[ -s "$STATE/secrets/mcp-token" ] || printf 'mcp_%s' "$(openssl rand -hex 18)" > "$STATE/secrets/mcp-token"

# --- OpenBao $OPENBAO_VERSION in the cluster, over TLS with a private CA -------------------------------
# As on the local stack (issue 14): the chart's vault.caCert hands that CA to the operator and, through
# the webhook, to every sidecar. Not dev mode: dev mode prints its root token in the pod's log, which
# the suite's secret sweep reads (and rightly fails on). In-memory storage, initialized and unsealed
# through the API here, the root token and unseal key only in $STATE/secrets.
kubectl create namespace openbao --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: openbao, namespace: openbao}
spec:
  selector: {app: openbao}
  ports: [{port: 8200, targetPort: 8200}]
YAML
bao_ip=$(kubectl -n openbao get svc openbao -o jsonpath='{.spec.clusterIP}')
BAO_ADDR=https://$bao_ip:8200
bao_pki=$STATE/openbao-tls; mkdir -p "$bao_pki"
BAO_CACERT=$bao_pki/ca.crt
if [ ! -s "$bao_pki/server.crt" ] || ! openssl x509 -in "$bao_pki/server.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$bao_ip"; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=capgate e2e OpenBao CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$bao_pki/ca.key" -out "$BAO_CACERT" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=openbao" \
    -keyout "$bao_pki/server.key" -out "$bao_pki/server.csr" 2>/dev/null
  # The ClusterIP (pods), the Service's names, and 127.0.0.1 (the bootstrap's port-forward).
  openssl x509 -req -in "$bao_pki/server.csr" -CA "$BAO_CACERT" -CAkey "$bao_pki/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:openbao.openbao.svc,DNS:openbao.openbao.svc.cluster.local\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$bao_ip") \
    -out "$bao_pki/server.crt" 2>/dev/null
fi
bao_existed=$(kubectl -n openbao get deploy openbao -o name 2>/dev/null || true)
kubectl -n openbao create secret tls openbao-tls --cert="$bao_pki/server.crt" --key="$bao_pki/server.key" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: openbao-config, namespace: openbao}
data:
  openbao.hcl: |
    storage "inmem" {}
    listener "tcp" {
      address       = "0.0.0.0:8200"
      tls_cert_file = "/tls/tls.crt"
      tls_key_file  = "/tls/tls.key"
    }
    api_addr      = "$BAO_ADDR"
    disable_mlock = true
    ui            = false
    # Every request and response, secrets HMAC'd, as on the local stack: the suite reads what
    # Vault answered (VaultScopeE2E) and greps the file for secret values. The directory is the
    # host's, through kind-config's extraMount. (OpenBao 2 enables audit devices only here.)
    audit "file" "file" {
      options {
        file_path = "/audit/openbao-audit.log"
      }
    }
---
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
          imagePullPolicy: IfNotPresent
          command: [bao]
          args: [server, -config=/config/openbao.hcl]
          # Ready once it listens; up.sh initializes and unseals it.
          readinessProbe: {httpGet: {path: "/v1/sys/health?uninitcode=200&sealedcode=200", port: 8200, scheme: HTTPS}, periodSeconds: 2}
          volumeMounts:
            - {name: tls, mountPath: /tls, readOnly: true}
            - {name: config, mountPath: /config, readOnly: true}
            - {name: audit, mountPath: /audit}
      volumes:
        - {name: tls, secret: {secretName: openbao-tls}}
        - {name: config, configMap: {name: openbao-config}}
        # kind-config's extraMount of the host's $STATE/logs/openbao-audit
        - {name: audit, hostPath: {path: /var/log/capgate-openbao, type: Directory}}
YAML
# Run again on a kept cluster: a new (empty) OpenBao, initialized below like the first.
if [ -n "$bao_existed" ]; then kubectl -n openbao rollout restart deploy/openbao >/dev/null; fi
kubectl -n openbao rollout status deploy/openbao --timeout=180s >/dev/null
kubectl -n openbao port-forward svc/openbao 18200:8200 > "$STATE/logs/port-forward.log" 2>&1 &
pf=$!; trap 'kill $pf 2>/dev/null || true' EXIT
for _ in $(seq 1 40); do curl -s -o /dev/null --cacert "$BAO_CACERT" https://127.0.0.1:18200/v1/sys/init && break; sleep 0.5; done
# One OpenBao API call through the port-forward; fails with OpenBao's answer on anything but 2xx.
bao_api() {  # METHOD PATH [JSON]
  local out code token=
  [ -s "$STATE/secrets/root-token" ] && token=$(cat "$STATE/secrets/root-token")
  out=$(curl -sS --max-time 30 --cacert "$BAO_CACERT" -X "$1" ${token:+-H "X-Vault-Token: $token"} ${3:+--data "$3"} \
    -w '\n%{http_code}' "https://127.0.0.1:18200/v1/$2") || kdie "OpenBao $1 $2: $out"
  code=${out##*$'\n'}; out=${out%$'\n'*}
  [[ $code == 2* ]] || kdie "OpenBao $1 /v1/$2 answered $code: $out"
  printf '%s' "$out"
}
rm -f "$STATE/secrets/root-token" "$STATE/secrets/unseal-key"
init=$(bao_api PUT sys/init '{"secret_shares":1,"secret_threshold":1}')
( umask 077
  printf '%s' "$init" | python3 -c 'import json,sys; print(json.load(sys.stdin)["root_token"], end="")' > "$STATE/secrets/root-token"
  printf '%s' "$init" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys_base64"][0], end="")' > "$STATE/secrets/unseal-key" )
bao_api PUT sys/unseal "{\"key\":\"$(cat "$STATE/secrets/unseal-key")\"}" >/dev/null
for _ in $(seq 1 40); do curl -sf -o /dev/null --cacert "$BAO_CACERT" https://127.0.0.1:18200/v1/sys/health && break; sleep 0.5; done
# Secrets, the internal API's identity tokens, the operator's policy and token: the one bootstrap
# of the stack and Kind (e2e/openbao/bootstrap.sh; the sessions' policy comes with the JWT auth
# method, after the chart, since it names that mount's accessor).
bootstrap() { BAO_ADDR=https://127.0.0.1:18200 BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(cat "$STATE/secrets/root-token") "$ROOT/e2e/openbao/bootstrap.sh" "$@"; }
bootstrap base "$STATE/secrets/github-token" "$STATE/secrets/mcp-token" "$OIDC_ROLE" "$STATE/secrets/operator-token"
# The GitHub App (GitHubAppE2E): its key in OpenBao, the public half to the upstreams pod.
[ -s "$STATE/secrets/github-app.pem" ] || (umask 077; openssl genrsa -traditional -out "$STATE/secrets/github-app.pem" 2048 2>/dev/null)
bootstrap github-app "$STATE/secrets/github-app.pem"
# s3proxy's identity (CloudCredentialsE2E), AWS-shaped, alice's in OpenBao as on the local stack.
[ -s "$STATE/secrets/aws-access-key-id" ] || printf 'AKIA%s' "$(openssl rand -hex 32 | tr a-f0-9 A-Z2-7 | tr -cd 'A-Z2-7' | head -c 16)" > "$STATE/secrets/aws-access-key-id"
[ -s "$STATE/secrets/aws-secret-access-key" ] || (umask 077; openssl rand -base64 30 | tr -d '\n' > "$STATE/secrets/aws-secret-access-key")
bootstrap aws "$STATE/secrets/aws-access-key-id" "$STATE/secrets/aws-secret-access-key"
# Every request and response, secrets HMAC'd, as on the local stack: the suite reads what Vault
# answered (VaultScopeE2E) and greps the file for secret values.
ksay "OpenBao $OPENBAO_VERSION (TLS, initialized, unsealed) at $BAO_ADDR configured"

# --- upstreams as a pod --------------------------------------------------------------------------------
# One certificate for every name of e2e/stack/shared.env's UPSTREAM_HOSTS (the local stack's list).
pki=$STATE/pki; mkdir -p "$pki"
sans=$(printf 'DNS:%s,' "${UPSTREAM_HOSTS[@]}"); sans=${sans%,}
if [ ! -s "$pki/upstream.crt" ] || [ "$(cat "$pki/sans" 2>/dev/null)" != "$sans" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=capgate e2e upstream CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${UPSTREAM_HOSTS[0]}" -keyout "$pki/upstream.key" -out "$pki/upstream.csr" 2>/dev/null
  openssl x509 -req -in "$pki/upstream.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 -out "$pki/upstream.crt" \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$sans") 2>/dev/null
  echo "$sans" > "$pki/sans"
fi
kubectl create namespace "$UPSTREAM_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$UPSTREAM_NAMESPACE" create secret tls upstreams-tls --cert="$pki/upstream.crt" --key="$pki/upstream.key" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$UPSTREAM_NAMESPACE" create secret generic upstreams-tokens --from-file=github-token="$STATE/secrets/github-token" \
  --from-file=mcp-token="$STATE/secrets/mcp-token" \
  --from-file=github-app.pub.pem=<(openssl rsa -in "$STATE/secrets/github-app.pem" -pubout 2>/dev/null) \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$UPSTREAM_NAMESPACE" create configmap openbao-ca --from-file=ca.crt="$BAO_CACERT" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: upstreams, namespace: $UPSTREAM_NAMESPACE}
spec:
  selector: {matchLabels: {app: upstreams}}
  template:
    metadata: {labels: {app: upstreams}}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: upstreams
          image: $UPSTREAMS_IMAGE
          imagePullPolicy: Never
          env:
            - {name: JWKS_URL, value: "$BAO_ADDR/v1/identity/oidc/.well-known/keys"}
            - {name: JWKS_CA, value: /vault-ca/ca.crt}
            - {name: GITHUB_APP_ID, value: "$GITHUB_APP_ID"}
            - {name: GITHUB_APP_INSTALLATION, value: "$GITHUB_APP_INSTALLATION"}
          readinessProbe: {tcpSocket: {port: 8443}, periodSeconds: 2}
          volumeMounts:
            - {name: tls, mountPath: /tls, readOnly: true}
            - {name: tokens, mountPath: /secrets, readOnly: true}
            - {name: vault-ca, mountPath: /vault-ca, readOnly: true}
      volumes:
        - {name: tls, secret: {secretName: upstreams-tls}}
        - {name: tokens, secret: {secretName: upstreams-tokens}}
        - {name: vault-ca, configMap: {name: openbao-ca}}
---
apiVersion: v1
kind: Service
metadata: {name: upstreams, namespace: $UPSTREAM_NAMESPACE}
spec:
  selector: {app: upstreams}
  ports: [{name: https, port: 443, targetPort: 8443}]
YAML

# --- s3proxy as a pod (CloudCredentialsE2E) --------------------------------------------------------
# The upstreams' image, another command: a certificate for $S3_HOST from the upstreams' CA, the keys
# in a Secret (its properties file), a filesystem blob store in the pod (bucket-a, and bucket-b with
# something the agent's policy never allows).
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$S3_HOST" -keyout "$pki/s3.key" -out "$pki/s3.csr" 2>/dev/null
openssl x509 -req -in "$pki/s3.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 -out "$pki/s3.crt" \
  -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$S3_HOST") 2>/dev/null
openssl pkcs12 -export -in "$pki/s3.crt" -inkey "$pki/s3.key" -name server -passout pass:s3proxy-e2e -out "$pki/s3proxy.p12" 2>/dev/null
kubectl -n "$UPSTREAM_NAMESPACE" create secret generic s3proxy-config --from-file=s3proxy.p12="$pki/s3proxy.p12" \
  --from-file=s3proxy.properties=<(printf '%s\n' "s3proxy.secure-endpoint=https://0.0.0.0:8445" \
    "s3proxy.keystore-path=/config/s3proxy.p12" "s3proxy.keystore-password=s3proxy-e2e" "s3proxy.authorization=aws-v2-or-v4" \
    "s3proxy.identity=$(cat "$STATE/secrets/aws-access-key-id")" "s3proxy.credential=$(cat "$STATE/secrets/aws-secret-access-key")" \
    "jclouds.provider=filesystem" "jclouds.filesystem.basedir=/tmp/blobs") \
  --from-file=logback.xml=<(printf '%s\n' '<configuration><appender name="out" class="ch.qos.logback.core.ConsoleAppender">' \
    '<encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>' \
    '<root level="INFO"><appender-ref ref="out"/></root></configuration>') \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: s3proxy, namespace: $UPSTREAM_NAMESPACE}
spec:
  selector: {matchLabels: {app: s3proxy}}
  template:
    metadata: {labels: {app: s3proxy}}
    spec:
      automountServiceAccountToken: false
      containers:
        - name: s3proxy
          image: $UPSTREAMS_IMAGE
          imagePullPolicy: Never
          command: [sh, -c]
          args:
            - mkdir -p /tmp/blobs/bucket-a /tmp/blobs/bucket-b && printf 'not for the agent\\n' > /tmp/blobs/bucket-b/secret.txt
              && exec java -XX:+UseSerialGC -Xmx160m -Dlogback.configurationFile=/config/logback.xml -cp '/opt/s3proxy/lib/*'
              org.gaul.s3proxy.Main --properties /config/s3proxy.properties
          readinessProbe: {tcpSocket: {port: 8445}, periodSeconds: 2}
          volumeMounts: [{name: config, mountPath: /config, readOnly: true}]
      volumes: [{name: config, secret: {secretName: s3proxy-config}}]
---
apiVersion: v1
kind: Service
metadata: {name: $S3_SERVICE, namespace: $UPSTREAM_NAMESPACE}
spec:
  selector: {app: s3proxy}
  ports: [{name: https, port: 443, targetPort: 8445}]
YAML
kubectl -n "$UPSTREAM_NAMESPACE" rollout status deploy/upstreams --timeout=180s >/dev/null
upstream_ip=$(kubectl -n "$UPSTREAM_NAMESPACE" get svc upstreams -o jsonpath='{.spec.clusterIP}')
ksay "upstreams at $upstream_ip:443 (${UPSTREAM_HOSTS[*]})"
kubectl -n "$UPSTREAM_NAMESPACE" rollout status deploy/s3proxy --timeout=180s >/dev/null
s3_ip=$(kubectl -n "$UPSTREAM_NAMESPACE" get svc "$S3_SERVICE" -o jsonpath='{.spec.clusterIP}')
ksay "s3proxy at $s3_ip:443 ($S3_HOST)"

# --- the chart: the same values as e2e/stack/stack-up.sh (StackConsistencyTest compares them) --------
kubectl create namespace "$SYSTEM_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$SYSTEM_NAMESPACE" create secret generic "$OPERATOR_VAULT_SECRET" --from-file=token="$STATE/secrets/operator-token" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$SYSTEM_NAMESPACE" create configmap "$VAULT_CA_CONFIGMAP" --from-file=ca.crt="$BAO_CACERT" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
installed=
if helm status "$RELEASE" -n "$SYSTEM_NAMESPACE" >/dev/null 2>&1; then installed=1; fi
helm upgrade --install "$RELEASE" "$ROOT/charts/capgate" -n "$SYSTEM_NAMESPACE" --wait --timeout 300s \
  --set vault.address="$BAO_ADDR" \
  --set vault.operatorToken.secretName="$OPERATOR_VAULT_SECRET" \
  --set vault.caCert.configMap="$VAULT_CA_CONFIGMAP" \
  --set image.repository=capgate.local/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set sidecar.image.repository=capgate.local/sidecar --set sidecar.image.tag=dev --set sidecar.image.pullPolicy=Never \
  --set sidecar.upstreamCA.configMap="$UPSTREAM_CA_CONFIGMAP" \
  --set replicaCount=1 > "$STATE/logs/helm.log" 2>&1 \
  || { cat "$STATE/logs/helm.log" >&2; kubectl -n "$SYSTEM_NAMESPACE" get pods -o wide >&2; kdie "helm install failed"; }
# OpenBao above is a fresh one (in memory): an operator already running holds the old one's token.
if [ -n "$installed" ]; then
  kubectl -n "$SYSTEM_NAMESPACE" rollout restart deploy -l app.kubernetes.io/instance="$RELEASE" >/dev/null
  kubectl -n "$SYSTEM_NAMESPACE" rollout status deploy -l app.kubernetes.io/instance="$RELEASE" --timeout=180s >/dev/null
fi

# --- Vault trusts the operator's session JWTs (issue 11) ------------------------------------------
# public.pem of the Secret the operator creates at its first start (<fullname>-session-signer).
public_pem=
for _ in $(seq 1 120); do
  public_pem=$(kubectl -n "$SYSTEM_NAMESPACE" get secret "$SESSION_SIGNER_SECRET" -o jsonpath='{.data.public\.pem}' 2>/dev/null \
    | base64 -d 2>/dev/null) || true
  [ -n "$public_pem" ] && break
  sleep 0.5
done
[ -n "$public_pem" ] || kdie "no public.pem in Secret $SYSTEM_NAMESPACE/$SESSION_SIGNER_SECRET"
bootstrap session-auth "$VAULT_JWT_MOUNT" "$VAULT_ROLE" <(printf '%s\n' "$public_pem") "$SESSION_ISSUER" "$OIDC_ROLE" >/dev/null
ksay "OpenBao JWT auth at auth/$VAULT_JWT_MOUNT: the operator's session key, role $VAULT_ROLE, policy templated on the user"

# Dual-stack: the node has an IPv4 and an IPv6 InternalIP; the suite wants the IPv4 one.
node_ip=$(kubectl get node -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}' | tr ' ' '\n' | grep -v : | head -1)
# The canaries listen on the engine's network gateway for the kind network (the host, seen from pods).
case $KIND_ENGINE in
  docker) gateway=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -v : | head -1) ;;
  podman) gateway=$(podman network inspect kind -f '{{range .Subnets}}{{.Gateway}} {{end}}' | tr ' ' '\n' | grep -v : | head -1) ;;
esac
cat > "$STATE/stack.env" <<ENV
# Written by e2e/kind/up.sh (see e2e/stack/stack-up.sh for the meaning of each key).
KUBECONFIG=$KUBECONFIG
CAPGATE_E2E_KUBECTL=$(command -v kubectl)
CAPGATE_E2E_NODE_IP=$node_ip
CAPGATE_E2E_APISERVER_PORT=6443
CAPGATE_E2E_CANARY_HOST=$gateway
CAPGATE_E2E_UPSTREAM_IP=$upstream_ip
CAPGATE_E2E_UPSTREAM_HOSTS="${UPSTREAM_HOSTS[*]}"
CAPGATE_E2E_UPSTREAM_CA=$pki/ca.crt
CAPGATE_E2E_GITHUB_APP_ID=$GITHUB_APP_ID
CAPGATE_E2E_GITHUB_APP_INSTALLATION=$GITHUB_APP_INSTALLATION
CAPGATE_E2E_S3_HOST=$S3_HOST
CAPGATE_E2E_S3_IP=$s3_ip
CAPGATE_E2E_UPSTREAM_CA_CONFIGMAP=$UPSTREAM_CA_CONFIGMAP
CAPGATE_E2E_VAULT_ADDR=$BAO_ADDR
CAPGATE_E2E_VAULT_CA=$BAO_CACERT
CAPGATE_E2E_VAULT_ROLE=$VAULT_ROLE
CAPGATE_E2E_VAULT_JWT_MOUNT=$VAULT_JWT_MOUNT
CAPGATE_E2E_AGENT_SERVICE_ACCOUNT=$AGENT_SERVICE_ACCOUNT
CAPGATE_E2E_OIDC_ROLE=$OIDC_ROLE
CAPGATE_E2E_SYSTEM_NAMESPACE=$SYSTEM_NAMESPACE
CAPGATE_E2E_SECRET_FILES="$STATE/secrets/github-token $STATE/secrets/mcp-token $STATE/secrets/github-app.pem $STATE/secrets/aws-access-key-id $STATE/secrets/aws-secret-access-key $STATE/secrets/root-token $STATE/secrets/unseal-key $STATE/secrets/operator-token"
CAPGATE_E2E_LOG_DIRS="$STATE/logs $audit_dir"
CAPGATE_E2E_LOG_PODS="openbao/app=openbao $UPSTREAM_NAMESPACE/app=upstreams $UPSTREAM_NAMESPACE/app=s3proxy"
CAPGATE_E2E_VAULT_ROOT_TOKEN_FILE=$STATE/secrets/root-token
CAPGATE_E2E_VAULT_PORT_FORWARD=openbao/svc/openbao:8200
ENV
ksay "stack up: $STATE/stack.env (KUBECONFIG=$KUBECONFIG)"
