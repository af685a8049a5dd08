#!/usr/bin/env bash
# Brings up the whole end-to-end stack on this machine (root, no Docker), in this order:
#   1. OpenBao as a host process on $NODE_IP:$BAO_PORT — raft storage, initialized and unsealed,
#      a file audit log, KV v2 `secret/` with the GitHub and MCP tokens, an identity OIDC role for
#      the internal API, a token for the operator (revocation); no Kubernetes auth method at all;
#   2. the upstreams (e2e/src/main/java/dev/capgate/e2e/upstream) as a host process on
#      $NODE_IP:$UPSTREAM_PORT with their own test CA, behind the selector-less Service
#      upstreams.capgate-upstreams:443 (no cluster DNS here: pods map the names to its ClusterIP
#      with hostAliases, as a cluster's DNS would);
#   2b. s3proxy (a real S3 server checking SigV4 itself) as a host process on $NODE_IP:$S3_PORT,
#      serving $S3_HOST with a certificate of the upstreams' CA, behind the Service s3.capgate-upstreams;
#      its keys random per fresh stack, in OpenBao under alice's path secret/aws/alice@example.com;
#   2c. Keycloak (the OAuth authorization server of OAuthE2E) as a host process on $NODE_IP:$KC_PORT,
#      started first (it is the slowest), serving $AUTH_HOST with a certificate of the upstreams' CA,
#      behind the Service auth.capgate-upstreams; at the end its realm, client and user, and
#      alice's refresh token in OpenBao at secret/oauth/alice@example.com (e2e/stack/keycloak-realm.py);
#   2d. the gRPC upstream (make tools' grpc-testserver: grpc-go's interop TestService, reflection)
#      as a host process on $NODE_IP:$GRPC_PORT, serving $GRPC_HOST with a certificate of the
#      upstreams' CA, behind the Service grpc.capgate-upstreams; every call must carry alice's gRPC
#      token (random per fresh stack, in OpenBao at secret/grpc/alice@example.com);
#   3. meanwhile the single-node cluster (e2e/cluster/cluster-up.sh) and the images on its node
#      (hack/images.sh: sidecar, operator, agent, pause, java-base);
#   4. `helm upgrade --install capgate charts/capgate`: the operator as a pod from its image, the
#      webhook through its Service;
#   5. OpenBao's JWT auth method trusting the operator's session signing key (public.pem of the
#      Secret the operator created at its start), the role `capgate-agent` and the policy templated
#      on the session's user: a sidecar gets its Vault token only from the operator, for its own
#      session (issue 11), and that token reads only the session's user's secrets.
# Writes $STACK_ENV (what the JUnit suite and the demo read). Idempotent: what is up and healthy
# stays; OpenBao and the upstreams are started fresh (new secrets) when either is not healthy.
#   e2e/stack/stack-up.sh            (make e2e-up)     e2e/stack/stack-down.sh   (make e2e-down)
set -euo pipefail
source "$(dirname "$0")/env.sh"
T0=$(date +%s.%N)
export KUBECONFIG=$KUBECONFIG_ADMIN
[ "$(id -u)" = 0 ] || sdie "run as root"
for b in bao helm kubectl grpc-testserver; do [ -x "$TOOLS_BIN/$b" ] || sdie "$TOOLS_BIN/$b missing: run 'make tools' first"; done
[ -f "$S3PROXY_LIB/s3proxy-2.6.0.jar" ] || sdie "$S3PROXY_LIB/s3proxy-2.6.0.jar missing: run 'make tools' first"
[ -x "$KC_HOME/bin/kc.sh" ] || sdie "$KC_HOME/bin/kc.sh missing: run 'make tools' first"
for f in sidecar/target/capgate-sidecar.jar operator/target/capgate-operator.jar e2e/target/classes/dev/capgate/e2e/upstream/Upstreams.class; do
  [ -e "$REPO_ROOT/$f" ] || sdie "$f missing: run 'make build' first"
done
[ -d "$REPO_ROOT/e2e/target/lib" ] || sdie "e2e/target/lib missing: run 'make build' first"
mkdir -p "$STACK_DIR" "$STACK_LOGS" "$STACK_RUN"
chmod 0700 "$STACK_DIR"

# --- helpers ------------------------------------------------------------------------------------
stack_pid() {  # NAME: the pid of our process NAME (pid file + command line naming $STACK_DIR)
  local f=$STACK_RUN/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$STACK_DIR" || return 1
  echo "$pid"
}
start_daemon() {  # NAME CMD...
  local name=$1; shift
  setsid "$@" > "$STACK_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$STACK_RUN/$name.pid"
}
stop_daemon() {
  local pid
  if pid=$(stack_pid "$1"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STACK_RUN/$1.pid"
}
bao_root() { cat "$BAO_DIR/root-token"; }
# One OpenBao API call with the root token; fails (with the answer) on anything but 2xx.
bao_api() {  # METHOD PATH [JSON]
  local out code
  out=$(curl -sS --max-time 30 --cacert "$BAO_CACERT" -X "$1" -H "X-Vault-Token: $(bao_root)" ${3:+-H 'Content-Type: application/json' --data "$3"} \
    -w '\n%{http_code}' "$BAO_ADDR/v1/$2") || sdie "OpenBao $1 $2: $out"
  code=${out##*$'\n'}; out=${out%$'\n'*}
  [[ $code == 2* ]] || sdie "OpenBao $1 /v1/$2 answered $code: $out"
  printf '%s' "$out"
}
json_get() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }
# Over TLS with the stack's CA: an older plain-HTTP OpenBao (or one without that CA) is not healthy
# and is started fresh.
bao_healthy() { curl -sf --max-time 2 --cacert "$BAO_CACERT" "$BAO_ADDR/v1/sys/health" >/dev/null 2>&1; }
upstreams_healthy() {
  curl -s --max-time 2 -o /dev/null -w '%{http_code}' --cacert "$STACK_DIR/pki/ca.crt" \
    --resolve "api.github.test:$UPSTREAM_PORT:$NODE_IP" "https://api.github.test:$UPSTREAM_PORT/repos/acme/repo-a" 2>/dev/null | grep -qx 401
}
# An anonymous request: s3proxy answers 403 AccessDenied once it serves.
s3_healthy() {
  curl -s --max-time 2 -o /dev/null -w '%{http_code}' --cacert "$STACK_DIR/pki/ca.crt" \
    --resolve "$S3_HOST:$S3_PORT:$NODE_IP" "https://$S3_HOST:$S3_PORT/" 2>/dev/null | grep -qx 403
}
# The gRPC server prints `listening <addr>` once it serves (hack/grpc-testserver).
grpc_healthy() {
  stack_pid grpc >/dev/null && grep -q '^listening ' "$STACK_LOGS/grpc.log" 2>/dev/null \
    && (exec 3<>"/dev/tcp/$NODE_IP/$GRPC_PORT") 2>/dev/null
}
# Keycloak serves once its realm exists (keycloak-realm.py ran): /realms/<realm> answers 200.
kc_healthy() {
  curl -s --max-time 2 -o /dev/null -w '%{http_code}' --cacert "$STACK_DIR/pki/ca.crt" \
    "https://$NODE_IP:$KC_PORT/realms/${1:-$OAUTH_REALM}" 2>/dev/null | grep -qx 200
}

# --- 1 + 2: OpenBao and the upstreams, fresh unless both are healthy ------------------------------
fresh=0
if stack_pid openbao >/dev/null && bao_healthy && [ -s "$BAO_DIR/root-token" ] && stack_pid upstreams >/dev/null && upstreams_healthy \
  && stack_pid s3proxy >/dev/null && s3_healthy && stack_pid keycloak >/dev/null && kc_healthy && grpc_healthy; then
  ssay "OpenBao and upstreams already up"
else
  fresh=1
  stop_daemon grpc; stop_daemon keycloak; stop_daemon s3proxy; stop_daemon upstreams; stop_daemon openbao
  rm -rf "$BAO_DIR" "$STACK_DIR/secrets" "$STACK_DIR/git" "$STACK_DIR/pki" "$S3_DIR" "$KC_DIR" "$GRPC_DIR"
  mkdir -p "$BAO_DIR/data" "$BAO_DIR/tls" "$STACK_DIR/secrets" "$STACK_DIR/pki"
  chmod 0700 "$BAO_DIR" "$STACK_DIR/secrets"

  # OpenBao's own private CA (EC P-256) and its serving certificate for the node address: nothing
  # trusts it unless given the CA (issue 14).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=capgate e2e OpenBao CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$BAO_DIR/tls/ca.key" -out "$BAO_CACERT" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=openbao" \
    -keyout "$BAO_DIR/tls/server.key" -out "$BAO_DIR/tls/server.csr" 2>/dev/null
  openssl x509 -req -in "$BAO_DIR/tls/server.csr" -CA "$BAO_CACERT" -CAkey "$BAO_DIR/tls/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=IP:%s,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$NODE_IP") \
    -out "$BAO_DIR/tls/server.crt" 2>/dev/null

  # Secret values of this stack: random, never printed; the suite greps every output and log for them.
  printf 'ghp_%s' "$(openssl rand -hex 18)" > "$STACK_DIR/secrets/github-token"
  printf 'mcp_%s' "$(openssl rand -hex 18)" > "$STACK_DIR/secrets/mcp-token"
  printf 'grpc_%s' "$(openssl rand -hex 18)" > "$STACK_DIR/secrets/grpc-token"
  # The S3 server's real keys (AWS-shaped: AKIA + 16, 40 characters), alice's in OpenBao.
  printf 'AKIA%s' "$(openssl rand -hex 32 | tr a-f0-9 A-Z2-7 | tr -cd 'A-Z2-7' | head -c 16)" > "$STACK_DIR/secrets/aws-access-key-id"
  openssl rand -base64 30 | tr -d '\n' > "$STACK_DIR/secrets/aws-secret-access-key"
  # The GitHub App's key (PKCS#1, as GitHub hands it out): private half in OpenBao, public half to
  # the upstreams. The installation tokens the upstreams mint go to github-app-tokens (one a line)
  # for the secret sweep.
  openssl genrsa -traditional -out "$STACK_DIR/secrets/github-app.pem" 2048 2>/dev/null
  openssl rsa -in "$STACK_DIR/secrets/github-app.pem" -pubout -out "$STACK_DIR/pki/github-app.pub.pem" 2>/dev/null
  : > "$STACK_DIR/secrets/github-app-tokens"
  # Keycloak's admin password, the sidecar's OAuth client secret, alice's password there.
  for f in keycloak-admin-password oauth-client-secret oauth-alice-password; do
    (umask 077; openssl rand -hex 24 > "$STACK_DIR/secrets/$f")
  done

  # The upstreams' own CA (EC P-256) and one server certificate for all their names.
  pki=$STACK_DIR/pki
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "/CN=capgate e2e upstream CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  sans=$(printf 'DNS:%s,' "${UPSTREAM_HOSTS[@]}"); sans=${sans%,}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=github.test" \
    -keyout "$pki/upstream.key" -out "$pki/upstream.csr" 2>/dev/null
  openssl x509 -req -in "$pki/upstream.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$sans") \
    -out "$pki/upstream.crt" 2>/dev/null
  # s3proxy's certificate for $S3_HOST, same CA (sidecars already trust it), as the PKCS#12 Jetty reads.
  mkdir -p "$S3_DIR/blobs/bucket-a" "$S3_DIR/blobs/bucket-b"; chmod 0700 "$S3_DIR"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$S3_HOST" \
    -keyout "$S3_DIR/s3.key" -out "$S3_DIR/s3.csr" 2>/dev/null
  openssl x509 -req -in "$S3_DIR/s3.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$S3_HOST") \
    -out "$S3_DIR/s3.crt" 2>/dev/null
  openssl pkcs12 -export -in "$S3_DIR/s3.crt" -inkey "$S3_DIR/s3.key" -name server -passout pass:s3proxy-e2e \
    -out "$S3_DIR/s3proxy.p12" 2>/dev/null
  # Keycloak: its certificate for $AUTH_HOST (and the node address, for the stack's own calls), same
  # CA; started now, in the background: it needs 20-170 s, the rest of `up` runs meanwhile.
  mkdir -p "$KC_DIR"; chmod 0700 "$KC_DIR"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$AUTH_HOST" \
    -keyout "$KC_DIR/tls.key" -out "$KC_DIR/tls.csr" 2>/dev/null
  openssl x509 -req -in "$KC_DIR/tls.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=DNS:%s,IP:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$AUTH_HOST" "$NODE_IP") \
    -out "$KC_DIR/tls.crt" 2>/dev/null
  # Dev mode, in-memory database; HTTPS on the node address for everyone (dev mode's plain HTTP on
  # $KC_HTTP_PORT is not used). Every token's `iss` is
  # https://$AUTH_HOST/realms/... whichever address the caller used. The admin password reaches it
  # through the environment, never a command line.
  KC_BOOTSTRAP_ADMIN_USERNAME=capgate-admin KC_BOOTSTRAP_ADMIN_PASSWORD=$(cat "$STACK_DIR/secrets/keycloak-admin-password") \
    JAVA_OPTS_KC_HEAP="-Xms64m -Xmx512m" JAVA_HOME=$JAVA_HOME \
    start_daemon keycloak "$KC_HOME/bin/kc.sh" start-dev --db=dev-mem --http-host="$NODE_IP" --http-port="$KC_HTTP_PORT" \
    --https-port="$KC_PORT" --https-certificate-file="$KC_DIR/tls.crt" --https-certificate-key-file="$KC_DIR/tls.key" \
    --hostname="https://$AUTH_HOST" --hostname-backchannel-dynamic=false --cache=local \
    --http-management-port="$KC_MGMT_PORT"
  ssay "Keycloak $KC_VERSION starting (host process, pid $(cat "$STACK_RUN/keycloak.pid"))"

  # The gRPC upstream: its certificate for $GRPC_HOST, same CA; it reads the token it requires from
  # a file (never a command line) and logs no metadata value.
  mkdir -p "$GRPC_DIR"; chmod 0700 "$GRPC_DIR"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$GRPC_HOST" \
    -keyout "$GRPC_DIR/tls.key" -out "$GRPC_DIR/tls.csr" 2>/dev/null
  openssl x509 -req -in "$GRPC_DIR/tls.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 30 \
    -extfile <(printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$GRPC_HOST") \
    -out "$GRPC_DIR/tls.crt" 2>/dev/null
  start_daemon grpc "$TOOLS_BIN/grpc-testserver" -addr "$NODE_IP:$GRPC_PORT" -cert "$GRPC_DIR/tls.crt" \
    -key "$GRPC_DIR/tls.key" -token-file "$STACK_DIR/secrets/grpc-token"
  ssay "gRPC test server starting (host process, pid $(cat "$STACK_RUN/grpc.pid"))"

  # A bucket the agent's policy never allows, with something in it.
  printf 'not for the agent\n' > "$S3_DIR/blobs/bucket-b/secret.txt"

  # The Git host's repositories: acme/repo-a (the agent's) and acme/repo-b (not the agent's).
  git_root=$STACK_DIR/git; work=$(mktemp -d)
  for repo in repo-a repo-b; do
    git init -q --bare -b main "$git_root/acme/$repo.git"
    git -C "$git_root/acme/$repo.git" config http.receivepack true
    git init -q -b main "$work/$repo"
    printf '# acme/%s\n\nIssue 42: the parser drops the last line.\n' "$repo" > "$work/$repo/README.md"
    git -C "$work/$repo" add . && git -C "$work/$repo" -c user.name=acme -c user.email=dev@acme.test commit -qm "initial commit"
    git -C "$work/$repo" push -q "$git_root/acme/$repo.git" main
  done
  rm -rf "$work"

  # OpenBao: raft storage (not dev mode), one unseal key, audit log, listening on the node address.
  cat > "$BAO_DIR/config.hcl" <<EOF
storage "raft" {
  path                   = "$BAO_DIR/data"
  node_id                = "capgate-e2e"
  performance_multiplier = 1
}
listener "tcp" {
  address         = "$NODE_IP:$BAO_PORT"
  cluster_address = "127.0.0.1:$BAO_CLUSTER_PORT"
  tls_cert_file   = "$BAO_DIR/tls/server.crt"
  tls_key_file    = "$BAO_DIR/tls/server.key"
}
api_addr     = "$BAO_ADDR"
cluster_addr = "http://127.0.0.1:$BAO_CLUSTER_PORT"
ui           = false
log_level    = "info"
# Every request and response, secrets HMAC'd (the suite greps this file for the secret values too).
audit "file" "file" {
  options {
    file_path = "$STACK_LOGS/openbao-audit.log"
  }
}
EOF
  start_daemon openbao "$TOOLS_BIN/bao" server -config="$BAO_DIR/config.hcl"
  for _ in $(seq 1 120); do curl -s --max-time 1 --cacert "$BAO_CACERT" "$BAO_ADDR/v1/sys/init" >/dev/null 2>&1 && break; sleep 0.25; done
  init=$(curl -sS --cacert "$BAO_CACERT" -X PUT --data '{"secret_shares":1,"secret_threshold":1}' "$BAO_ADDR/v1/sys/init") \
    || { tail -20 "$STACK_LOGS/openbao.log" >&2; sdie "OpenBao did not start"; }
  umask 077
  echo "$init" | json_get root_token > "$BAO_DIR/root-token"
  echo "$init" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys_base64"][0])' > "$BAO_DIR/unseal-key"
  umask 022
  curl -sS --cacert "$BAO_CACERT" -X PUT --data "{\"key\":\"$(cat "$BAO_DIR/unseal-key")\"}" "$BAO_ADDR/v1/sys/unseal" >/dev/null
  for _ in $(seq 1 120); do bao_healthy && break; sleep 0.25; done
  bao_healthy || { tail -20 "$STACK_LOGS/openbao.log" >&2; sdie "OpenBao not active after unseal"; }
  ssay "OpenBao initialized and unsealed at $BAO_ADDR"

  # Secrets, the internal API's identity tokens, the operator's policy and token: the one
  # bootstrap of the stack and Kind (e2e/openbao/bootstrap.sh).
  BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" base "$STACK_DIR/secrets/github-token" \
    "$STACK_DIR/secrets/mcp-token" "$OIDC_ROLE" "$BAO_DIR/operator-token"
  BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" aws \
    "$STACK_DIR/secrets/aws-access-key-id" "$STACK_DIR/secrets/aws-secret-access-key"
  BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" github-app \
    "$STACK_DIR/secrets/github-app.pem"
  BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" grpc \
    "$STACK_DIR/secrets/grpc-token"
  ssay "OpenBao configured: kv2 secret/, identity OIDC role $OIDC_ROLE, audit log, operator token, S3 keys, GitHub App key, gRPC token"

  # The upstreams, host process: the e2e module's classes and their dependencies.
  start_daemon upstreams "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx192m \
    -cp "$REPO_ROOT/e2e/target/classes:$REPO_ROOT/e2e/target/lib/*" dev.capgate.e2e.upstream.Upstreams \
    --host "$NODE_IP" --port "$UPSTREAM_PORT" --cert "$pki/upstream.crt" --key "$pki/upstream.key" \
    --token-file "$STACK_DIR/secrets/github-token" --mcp-token-file "$STACK_DIR/secrets/mcp-token" \
    --git-root "$git_root" --jwks "$BAO_ADDR/v1/identity/oidc/.well-known/keys" --jwks-ca "$BAO_CACERT" \
    --github-app-id "$GITHUB_APP_ID" --github-app-installation "$GITHUB_APP_INSTALLATION" \
    --github-app-public-key-file "$STACK_DIR/pki/github-app.pub.pem" \
    --github-app-tokens-file "$STACK_DIR/secrets/github-app-tokens" \
    --oauth-jwks "https://$NODE_IP:$KC_PORT/realms/$OAUTH_REALM/protocol/openid-connect/certs" --oauth-jwks-ca "$pki/ca.crt" \
    --oauth-issuer "https://$AUTH_HOST/realms/$OAUTH_REALM" --oauth-audience api.oauth.test
  ssay "upstreams starting (host process, pid $(cat "$STACK_RUN/upstreams.pid"))"

  # s3proxy: the keys in its properties file (mode 0600, in $S3_DIR 0700), never on a command line.
  (umask 077; cat > "$S3_DIR/s3proxy.properties" <<EOF
s3proxy.secure-endpoint=https://$NODE_IP:$S3_PORT
s3proxy.keystore-path=$S3_DIR/s3proxy.p12
s3proxy.keystore-password=s3proxy-e2e
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$(cat "$STACK_DIR/secrets/aws-access-key-id")
s3proxy.credential=$(cat "$STACK_DIR/secrets/aws-secret-access-key")
jclouds.provider=filesystem
jclouds.filesystem.basedir=$S3_DIR/blobs
EOF
  )
  # Without a configuration logback logs at DEBUG (tens of thousands of lines).
  printf '%s\n' '<configuration><appender name="out" class="ch.qos.logback.core.ConsoleAppender">' \
    '<encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder></appender>' \
    '<root level="INFO"><appender-ref ref="out"/></root></configuration>' > "$S3_DIR/logback.xml"
  start_daemon s3proxy "$JAVA_HOME/bin/java" -XX:+UseSerialGC -Xmx160m -Dlogback.configurationFile="$S3_DIR/logback.xml" \
    -cp "$S3PROXY_LIB/*" org.gaul.s3proxy.Main --properties "$S3_DIR/s3proxy.properties"
  ssay "s3proxy starting (host process, pid $(cat "$STACK_RUN/s3proxy.pid"))"
fi

# --- 3. cluster + images (the upstreams' JVM starts meanwhile) -----------------------------------
"$REPO_ROOT/e2e/cluster/cluster-up.sh" 2>&1 | grep -v '^export KUBECONFIG' | sed 's/^/  /' >&2
"$REPO_ROOT/hack/images.sh" --import sidecar operator agent > "$STACK_LOGS/images.log" 2>&1 \
  || { cat "$STACK_LOGS/images.log" >&2; sdie "building or importing the images failed"; }
grep -E '  (build|import) ' "$STACK_LOGS/images.log" | sed 's/^/  /' >&2 || true
ssay "cluster and images ready"


# --- No Kubernetes auth (issue 11): remove what an older stack set up -----------------------------
# The pods' service account must not log in to Vault; only the operator vouches for sidecars.
if bao_api GET sys/auth | python3 -c 'import json,sys; sys.exit(0 if "kubernetes/" in json.load(sys.stdin)["data"] else 1)'; then
  bao_api DELETE sys/auth/kubernetes >/dev/null
  ssay "OpenBao: removed the Kubernetes auth method of an older stack"
fi
kc delete clusterrolebinding capgate-openbao-token-reviewer --ignore-not-found >/dev/null
kc delete namespace capgate-openbao --ignore-not-found --wait=false >/dev/null

# --- Kubernetes objects around the chart ---------------------------------------------------------
# Each host process (upstreams, s3proxy, Keycloak, the gRPC server) gets a Service without a
# selector and one EndpointSlice pointing at the node; prints the Service's cluster IP.
host_service() { # Service name, EndpointSlice name, the process's port on the node
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: $UPSTREAM_NAMESPACE}
spec:
  ports: [{name: https, port: 443, targetPort: $3, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $2
  namespace: $UPSTREAM_NAMESPACE
  labels: {kubernetes.io/service-name: $1}
addressType: IPv4
ports: [{name: https, port: $3, protocol: TCP}]
endpoints: [{addresses: ["$NODE_IP"], conditions: {ready: true}}]
EOF
  kc -n "$UPSTREAM_NAMESPACE" get svc "$1" -o jsonpath='{.spec.clusterIP}'
}
kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $UPSTREAM_NAMESPACE}
---
apiVersion: v1
kind: Namespace
metadata: {name: $SYSTEM_NAMESPACE}
EOF
upstream_ip=$(host_service upstreams upstreams-host "$UPSTREAM_PORT")
s3_ip=$(host_service "$S3_SERVICE" s3-host "$S3_PORT")
auth_ip=$(host_service "$AUTH_SERVICE" auth-host "$KC_PORT")
grpc_ip=$(host_service "$GRPC_SERVICE" grpc-host "$GRPC_PORT")
kc -n "$SYSTEM_NAMESPACE" create secret generic "$OPERATOR_VAULT_SECRET" --from-file=token="$BAO_DIR/operator-token" \
  --dry-run=client -o yaml | kc apply -f - >/dev/null
# OpenBao's CA for the chart's vault.caCert: the operator reads it at start, the webhook hands it to
# every sidecar (CAPGATE_VAULT_CA).
kc -n "$SYSTEM_NAMESPACE" create configmap "$VAULT_CA_CONFIGMAP" --from-file=ca.crt="$BAO_CACERT" \
  --dry-run=client -o yaml | kc apply -f - >/dev/null

# --- 4. the chart ---------------------------------------------------------------------------------
t_helm=$(date +%s.%N)
"$HELM" upgrade --install "$RELEASE" "$REPO_ROOT/charts/capgate" --kubeconfig "$KUBECONFIG_ADMIN" \
  -n "$SYSTEM_NAMESPACE" --wait --timeout 180s \
  --set vault.address="$BAO_ADDR" \
  --set vault.operatorToken.secretName="$OPERATOR_VAULT_SECRET" \
  --set vault.caCert.configMap="$VAULT_CA_CONFIGMAP" \
  --set image.repository=capgate.local/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set sidecar.image.repository=capgate.local/sidecar --set sidecar.image.tag=dev --set sidecar.image.pullPolicy=Never \
  --set sidecar.upstreamCA.configMap="$UPSTREAM_CA_CONFIGMAP" \
  --set replicaCount=1 > "$STACK_LOGS/helm.log" 2>&1 \
  || { cat "$STACK_LOGS/helm.log" >&2; kc -n "$SYSTEM_NAMESPACE" get pods -o wide >&2; kc -n "$SYSTEM_NAMESPACE" logs deploy/"$RELEASE"-operator --tail=40 >&2 || true; sdie "helm install failed"; }
# A new operator image with the same tag: the Deployment does not change, the pod must.
operator_image_id=$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls 2>/dev/null | awk '$1=="capgate.local/operator:dev" {print $3}')
# The marker lives in the cluster's run directory: a fresh cluster starts without it (no restart).
# Likewise a new OpenBao CA (a fresh OpenBao): the operator reads CAPGATE_VAULT_CACERT at start only.
vault_ca_sum=$(sha256sum < "$BAO_CACERT" | cut -c1-64)
if { [ -n "$operator_image_id" ] && [ -s "$RUN/capgate-operator-image" ] && [ "$(cat "$RUN/capgate-operator-image")" != "$operator_image_id" ]; } \
  || { [ -s "$RUN/capgate-vault-ca" ] && [ "$(cat "$RUN/capgate-vault-ca")" != "$vault_ca_sum" ]; }; then
  kc -n "$SYSTEM_NAMESPACE" rollout restart deploy -l app.kubernetes.io/instance="$RELEASE" >/dev/null
  kc -n "$SYSTEM_NAMESPACE" rollout status deploy -l app.kubernetes.io/instance="$RELEASE" --timeout=180s >/dev/null
fi
echo "$operator_image_id" > "$RUN/capgate-operator-image"
echo "$vault_ca_sum" > "$RUN/capgate-vault-ca"
# Ready means the webhook answers through its Service and its caBundle is in place.
webhook=$(kc get mutatingwebhookconfiguration -l app.kubernetes.io/instance="$RELEASE" -o name | head -1)
[ -n "$webhook" ] || sdie "the chart made no MutatingWebhookConfiguration"
for _ in $(seq 1 120); do
  [ -n "$(kc get "$webhook" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ] && break; sleep 0.5
done
[ -n "$(kc get "$webhook" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" ] || sdie "the operator did not set the webhook's caBundle"
ssay "chart installed in $(elapsed "$t_helm")s: operator pod Ready, $webhook has its caBundle"

# --- 5. Vault trusts the operator's session JWTs (issue 11) ---------------------------------------
# The operator created its signing key at its first start; Vault gets the public half. A fresh
# cluster means a new key, so this runs at every `up` (each call is idempotent).
public_pem=
for _ in $(seq 1 120); do
  public_pem=$(kc -n "$SYSTEM_NAMESPACE" get secret "$SESSION_SIGNER_SECRET" -o jsonpath='{.data.public\.pem}' 2>/dev/null \
    | base64 -d 2>/dev/null) || true
  [ -n "$public_pem" ] && break
  sleep 0.5
done
[ -n "$public_pem" ] || { kc -n "$SYSTEM_NAMESPACE" logs deploy/"$RELEASE"-operator --tail=40 >&2 || true
  sdie "no public.pem in Secret $SYSTEM_NAMESPACE/$SESSION_SIGNER_SECRET: the operator did not create its session signing key"; }
# The JWT auth method, the policy templated on the session's user (the entity alias the mount makes
# from the JWT's `user`: Alice's session token reads secret/data/github/alice@example.com only) and
# the role as charts/capgate/files/vault-session-role.json defines it.
jwt_accessor=$(BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" session-auth "$VAULT_JWT_MOUNT" "$VAULT_ROLE" \
  <(printf '%s\n' "$public_pem") "$SESSION_ISSUER" "$OIDC_ROLE")
ssay "OpenBao JWT auth at auth/$VAULT_JWT_MOUNT (accessor $jwt_accessor): the operator's session key, role $VAULT_ROLE, policy templated on the session's user"

for _ in $(seq 1 240); do upstreams_healthy && break; sleep 0.25; done
upstreams_healthy || { tail -20 "$STACK_LOGS/upstreams.log" >&2; sdie "upstreams did not start"; }
ssay "upstreams listening on $NODE_IP:$UPSTREAM_PORT (${UPSTREAM_HOSTS[*]})"
for _ in $(seq 1 240); do s3_healthy && break; sleep 0.25; done
s3_healthy || { tail -20 "$STACK_LOGS/s3proxy.log" >&2; sdie "s3proxy did not start"; }
ssay "s3proxy listening on $NODE_IP:$S3_PORT ($S3_HOST, Service $S3_SERVICE.$UPSTREAM_NAMESPACE $s3_ip)"
for _ in $(seq 1 120); do grpc_healthy && break; sleep 0.25; done
grpc_healthy || { tail -20 "$STACK_LOGS/grpc.log" >&2; sdie "the gRPC test server did not start"; }
ssay "gRPC test server listening on $NODE_IP:$GRPC_PORT ($GRPC_HOST, Service $GRPC_SERVICE.$UPSTREAM_NAMESPACE $grpc_ip)"
# Keycloak last (the slowest start): then, on a fresh stack, its realm and alice's grant in OpenBao.
if [ "$fresh" = 1 ]; then
  for _ in $(seq 1 1200); do kc_healthy master && break; sleep 0.25; done
  kc_healthy master || { tail -20 "$STACK_LOGS/keycloak.log" >&2; sdie "Keycloak did not start"; }
  ssay "Keycloak listening on $NODE_IP:$KC_PORT"
  "$REPO_ROOT/e2e/stack/keycloak-realm.py" "https://$NODE_IP:$KC_PORT" "$STACK_DIR/pki/ca.crt" "$OAUTH_REALM" api.oauth.test \
    "$STACK_DIR/secrets/keycloak-admin-password" "$STACK_DIR/secrets/oauth-client-secret" \
    "$STACK_DIR/secrets/oauth-alice-password" "$STACK_DIR/secrets/oauth-refresh-token" || sdie "Keycloak realm setup failed"
  BAO_ADDR=$BAO_ADDR BAO_CACERT=$BAO_CACERT BAO_TOKEN=$(bao_root) "$REPO_ROOT/e2e/openbao/bootstrap.sh" oauth \
    "$STACK_DIR/secrets/oauth-refresh-token" "$STACK_DIR/secrets/oauth-client-secret"
fi
kc_healthy || sdie "Keycloak has no realm $OAUTH_REALM"
ssay "Keycloak realm $OAUTH_REALM ready ($AUTH_HOST, Service $AUTH_SERVICE.$UPSTREAM_NAMESPACE $auth_ip); alice's grant in OpenBao"

cat > "$STACK_ENV.tmp" <<EOF
# Written by e2e/stack/stack-up.sh: where the end-to-end stack is. Read by the JUnit suite
# (dev.capgate.e2e.Stack) and hack/demo.sh; shell syntax (source it). Secret values are in files
# named here, never inline.
KUBECONFIG=$KUBECONFIG_ADMIN
CAPGATE_E2E_KUBECTL=$TOOLS_BIN/kubectl
CAPGATE_E2E_NODE_IP=$NODE_IP
CAPGATE_E2E_APISERVER_PORT=$APISERVER_PORT
CAPGATE_E2E_CANARY_HOST=$NODE_IP
CAPGATE_E2E_CANARY_HOST6=$([ "$POD_IPV6" = 1 ] && echo "${POD_CIDR6%%::/*}::1")
CAPGATE_E2E_GIT_ROOT=$STACK_DIR/git
CAPGATE_E2E_UPSTREAM_IP=$upstream_ip
CAPGATE_E2E_UPSTREAM_HOSTS="${UPSTREAM_HOSTS[*]}"
CAPGATE_E2E_UPSTREAM_CA=$STACK_DIR/pki/ca.crt
CAPGATE_E2E_GITHUB_APP_ID=$GITHUB_APP_ID
CAPGATE_E2E_GITHUB_APP_INSTALLATION=$GITHUB_APP_INSTALLATION
CAPGATE_E2E_S3_HOST=$S3_HOST
CAPGATE_E2E_S3_IP=$s3_ip
CAPGATE_E2E_S3_BLOBS=$S3_DIR/blobs
CAPGATE_E2E_AUTH_HOST=$AUTH_HOST
CAPGATE_E2E_AUTH_IP=$auth_ip
CAPGATE_E2E_OAUTH_REALM=$OAUTH_REALM
CAPGATE_E2E_KEYCLOAK_URL=https://$NODE_IP:$KC_PORT
CAPGATE_E2E_KEYCLOAK_ADMIN_PASSWORD_FILE=$STACK_DIR/secrets/keycloak-admin-password
CAPGATE_E2E_OAUTH_CLIENT_SECRET_FILE=$STACK_DIR/secrets/oauth-client-secret
CAPGATE_E2E_OAUTH_ALICE_PASSWORD_FILE=$STACK_DIR/secrets/oauth-alice-password
CAPGATE_E2E_OAUTH_REFRESH_TOKEN_FILE=$STACK_DIR/secrets/oauth-refresh-token
CAPGATE_E2E_GRPC_HOST=$GRPC_HOST
CAPGATE_E2E_GRPC_IP=$grpc_ip
CAPGATE_E2E_UPSTREAM_CA_CONFIGMAP=$UPSTREAM_CA_CONFIGMAP
CAPGATE_E2E_VAULT_ADDR=$BAO_ADDR
CAPGATE_E2E_VAULT_CA=$BAO_CACERT
CAPGATE_E2E_VAULT_ROOT_TOKEN_FILE=$BAO_DIR/root-token
CAPGATE_E2E_VAULT_ROLE=$VAULT_ROLE
CAPGATE_E2E_VAULT_JWT_MOUNT=$VAULT_JWT_MOUNT
CAPGATE_E2E_AGENT_SERVICE_ACCOUNT=$AGENT_SERVICE_ACCOUNT
CAPGATE_E2E_OIDC_ROLE=$OIDC_ROLE
CAPGATE_E2E_SYSTEM_NAMESPACE=$SYSTEM_NAMESPACE
CAPGATE_E2E_SECRET_FILES="$STACK_DIR/secrets/github-token $STACK_DIR/secrets/mcp-token $STACK_DIR/secrets/grpc-token $STACK_DIR/secrets/aws-access-key-id $STACK_DIR/secrets/aws-secret-access-key $STACK_DIR/secrets/github-app.pem $STACK_DIR/secrets/github-app-tokens $STACK_DIR/secrets/keycloak-admin-password $STACK_DIR/secrets/oauth-client-secret $STACK_DIR/secrets/oauth-alice-password $STACK_DIR/secrets/oauth-refresh-token $BAO_DIR/root-token $BAO_DIR/unseal-key $BAO_DIR/operator-token"
CAPGATE_E2E_LOG_DIRS="$STACK_LOGS $LOGS $E2E_DIR/pod-logs"
EOF
mv "$STACK_ENV.tmp" "$STACK_ENV"
ssay "stack up in $(elapsed "$T0")s$([ "$fresh" = 1 ] && echo " (fresh OpenBao and upstreams)"): $STACK_ENV"
echo "export KUBECONFIG=$KUBECONFIG_ADMIN"
