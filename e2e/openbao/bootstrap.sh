#!/usr/bin/env bash
# OpenBao set up for Capgate, as an admin would (charts/capgate/README.md, "Vault identity"): the
# one bootstrap of the local stack (e2e/stack/stack-up.sh) and of Kind (e2e/kind/up.sh). The test
# kit's SessionJwtAuth reads the same role definition (charts/capgate/files/vault-session-role.json)
# and the operator's policy is the chart's (charts/capgate/files/operator-vault-policy.hcl).
#
# BAO_CACERT (optional): the PEM CA of an https OpenBao with a private CA.
#
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh base GITHUB_TOKEN_FILE MCP_TOKEN_FILE OIDC_ROLE OPERATOR_TOKEN_FILE
#     KV v2 at secret/ with alice's GitHub and MCP tokens, the identity OIDC key `capgate` and role
#     OIDC_ROLE (RS256, 5 minutes, client_id internal.test), the policy capgate-operator and an
#     orphan token with it, written to OPERATOR_TOKEN_FILE (mode 0600).
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh aws ACCESS_KEY_ID_FILE SECRET_KEY_FILE
#     alice's S3 keys (the e2e s3proxy's identity) at secret/aws/alice@example.com, fields
#     access_key and secret_key (what an awsSigV4 credential reads by default).
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh github-app PRIVATE_KEY_FILE
#     The e2e GitHub App's PEM private key at secret/github-app/acme, field private_key: the App of
#     team acme, which the sessions' policy lets every session of this stack read (one team here).
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh oauth REFRESH_TOKEN_FILE CLIENT_SECRET_FILE
#     Alice's OAuth grant (a Keycloak refresh token) at secret/oauth/alice@example.com, field
#     refresh_token, and the sidecar's OAuth client secret at secret/oauth-clients/capgate-sidecar,
#     field client_secret (what an oauth credential reads by default).
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh grpc TOKEN_FILE
#     alice's token for the gRPC upstream (GrpcE2E, local stack) at secret/grpc/alice@example.com,
#     field token.
#   BAO_ADDR=... BAO_TOKEN=<root> bootstrap.sh session-auth MOUNT ROLE PUBLIC_PEM_FILE ISSUER OIDC_ROLE
#     The JWT auth method at MOUNT trusting the operator's session key (its public.pem) and ISSUER;
#     the policy ROLE templated on the session's user (secret/data/github/<user>,
#     secret/data/mcp/<user>, secret/data/aws/<user>, secret/data/grpc/<user>, identity/oidc/token/OIDC_ROLE, the team's
#     App key secret/data/github-app/acme, read AND update of secret/data/oauth/<user> (the
#     sidecar writes the rotated refresh token back) and the OAuth client's secret); the role ROLE as the chart's file
#     defines it, with that policy. Prints the mount's accessor.
# Every step can run again (a new cluster brings a new operator key). Never prints a token or a
# secret: on an error, the call and OpenBao's status only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROLE_FILE=$ROOT/charts/capgate/files/vault-session-role.json
OPERATOR_POLICY_FILE=$ROOT/charts/capgate/files/operator-vault-policy.hcl
: "${BAO_ADDR:?set BAO_ADDR}" "${BAO_TOKEN:?set BAO_TOKEN (root)}"

die() { printf 'bootstrap.sh: %s\n' "$*" >&2; exit 1; }

# One OpenBao call with the root token; prints the answer, fails with the call and status only.
api() {  # METHOD PATH [JSON]
  local out code
  out=$(curl -sS --max-time 30 ${BAO_CACERT:+--cacert "$BAO_CACERT"} -X "$1" -H "X-Vault-Token: $BAO_TOKEN" \
    ${3:+-H 'Content-Type: application/json' --data "$3"} -w '\n%{http_code}' "$BAO_ADDR/v1/$2") \
    || die "OpenBao $1 /v1/$2: no answer"
  code=${out##*$'\n'}; out=${out%$'\n'*}
  [[ $code == 2* ]] || die "OpenBao $1 /v1/$2 answered HTTP $code"
  printf '%s' "$out"
}
# JSON from Python: the values (PEM, HCL, tokens) need escaping a shell cannot be trusted with.
json() { python3 -c "import json,sys; print(json.dumps($1))" "${@:2}"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d.get(k) if isinstance(d, dict) else None
print("" if d is None else d, end="")' "$@"; }
has_key() { python3 -c 'import json,sys; sys.exit(0 if sys.argv[1] in json.load(sys.stdin)["data"] else 1)' "$1"; }

base() {
  local github=$1 mcp=$2 oidc_role=$3 operator_token_file=$4
  local mounts
  mounts=$(api GET sys/mounts)
  if ! printf '%s' "$mounts" | has_key secret/; then
    api POST sys/mounts/secret '{"type":"kv","options":{"version":"2"}}' >/dev/null
  fi
  # A new KV v2 mount answers "upgrading" for a moment; its config is readable once it is usable.
  for _ in $(seq 1 40); do
    curl -sf --max-time 5 ${BAO_CACERT:+--cacert "$BAO_CACERT"} -H "X-Vault-Token: $BAO_TOKEN" "$BAO_ADDR/v1/secret/config" >/dev/null && break
    sleep 0.25
  done
  api POST "secret/data/github/alice@example.com" "$(json '{"data": {"token": open(sys.argv[1]).read().strip()}}' "$github")" >/dev/null
  api POST "secret/data/mcp/alice@example.com" "$(json '{"data": {"token": open(sys.argv[1]).read().strip()}}' "$mcp")" >/dev/null
  # Identity tokens for the internal API: RS256 (what it verifies), 5 minutes.
  api POST identity/oidc/key/capgate '{"algorithm":"RS256","allowed_client_ids":["*"],"verification_ttl":"1h","rotation_period":"24h"}' >/dev/null
  api POST "identity/oidc/role/$oidc_role" '{"key":"capgate","ttl":"5m","client_id":"internal.test"}' >/dev/null
  # The operator revokes leases and tokens; its policy is the chart's.
  api PUT sys/policies/acl/capgate-operator "$(json '{"policy": open(sys.argv[1]).read()}' "$OPERATOR_POLICY_FILE")" >/dev/null
  (umask 077
   api POST auth/token/create-orphan '{"policies":["capgate-operator"],"ttl":"168h","display_name":"capgate-operator"}' \
     | field auth client_token > "$operator_token_file")
  [ -s "$operator_token_file" ] || die "no operator token in OpenBao's answer"
}

aws() {
  api POST "secret/data/aws/alice@example.com" "$(json '{"data": {"access_key": open(sys.argv[1]).read().strip(), "secret_key": open(sys.argv[2]).read().strip()}}' "$1" "$2")" >/dev/null
}

grpc() {
  api POST "secret/data/grpc/alice@example.com" "$(json '{"data": {"token": open(sys.argv[1]).read().strip()}}' "$1")" >/dev/null
}

github_app() {
  api POST "secret/data/github-app/acme" "$(json '{"data": {"private_key": open(sys.argv[1]).read()}}' "$1")" >/dev/null
}

oauth() {
  api POST "secret/data/oauth/alice@example.com" "$(json '{"data": {"refresh_token": open(sys.argv[1]).read().strip()}}' "$1")" >/dev/null
  api POST "secret/data/oauth-clients/capgate-sidecar" "$(json '{"data": {"client_secret": open(sys.argv[1]).read().strip()}}' "$2")" >/dev/null
}
session_auth() {
  local mount=$1 role=$2 issuer=$4 oidc_role=$5 pem methods accessor user
  pem=$(cat "$3") || die "cannot read the public key $3"
  [ -n "$pem" ] || die "no public key in $3"
  methods=$(api GET sys/auth)
  if ! printf '%s' "$methods" | has_key "$mount/"; then
    api POST "sys/auth/$mount" '{"type":"jwt"}' >/dev/null
  fi
  api POST "auth/$mount/config" "$(json '{"jwt_validation_pubkeys": [sys.argv[1]], "bound_issuer": sys.argv[2]}' \
    "$pem" "$issuer")" >/dev/null
  methods=$(api GET sys/auth)
  accessor=$(printf '%s' "$methods" | field data "$mount/" accessor)
  [ -n "$accessor" ] || die "no accessor for auth/$mount"
  # The user of the session, as Vault knows it: the name of the entity alias the JWT mount made
  # from the JWT's `user` claim. Alice's session token reads secret/data/github/alice@example.com only.
  user="{{identity.entity.aliases.$accessor.name}}"
  api PUT "sys/policies/acl/$role" "$(json '{"policy": sys.argv[1]}' "path \"secret/data/github/$user\" { capabilities = [\"read\"] }
path \"secret/data/mcp/$user\" { capabilities = [\"read\"] }
path \"secret/data/aws/$user\" { capabilities = [\"read\"] }
path \"secret/data/grpc/$user\" { capabilities = [\"read\"] }
path \"secret/data/github-app/acme\" { capabilities = [\"read\"] }
path \"secret/data/oauth/$user\" { capabilities = [\"read\", \"update\"] }
path \"secret/data/oauth-clients/capgate-sidecar\" { capabilities = [\"read\"] }
path \"identity/oidc/token/$oidc_role\" { capabilities = [\"read\"] }
")" >/dev/null
  api POST "auth/$mount/role/$role" "$(json 'dict(json.load(open(sys.argv[1])), token_policies=[sys.argv[2]])' \
    "$ROLE_FILE" "$role")" >/dev/null
  printf '%s\n' "$accessor"
}

case ${1:-} in
  base) shift; [ $# -eq 4 ] || die "usage: base GITHUB_TOKEN_FILE MCP_TOKEN_FILE OIDC_ROLE OPERATOR_TOKEN_FILE"; base "$@" ;;
  grpc) shift; [ $# -eq 1 ] || die "usage: grpc TOKEN_FILE"; grpc "$@" ;;
  aws) shift; [ $# -eq 2 ] || die "usage: aws ACCESS_KEY_ID_FILE SECRET_KEY_FILE"; aws "$@" ;;
  oauth) shift; [ $# -eq 2 ] || die "usage: oauth REFRESH_TOKEN_FILE CLIENT_SECRET_FILE"; oauth "$@" ;;
  github-app) shift; [ $# -eq 1 ] || die "usage: github-app PRIVATE_KEY_FILE"; github_app "$@" ;;
  session-auth) shift; [ $# -eq 5 ] || die "usage: session-auth MOUNT ROLE PUBLIC_PEM_FILE ISSUER OIDC_ROLE"; session_auth "$@" ;;
  *) die "usage: bootstrap.sh base|aws|github-app|oauth|session-auth ..." ;;
esac
