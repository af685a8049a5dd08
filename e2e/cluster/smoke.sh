#!/usr/bin/env bash
# Proves the local node runs real pods, the way the end-to-end scenarios will use it:
#   1. `kubectl run` an agent pod from the imported image (imagePullPolicy Never) and a web pod,
#      expose the web pod as a Service, `kubectl exec` curl in the agent to the Service (kube-proxy
#      DNAT, pod to pod on the bridge) and to the `kubernetes` Service (pod to the apiserver),
#      read the web pod's logs, delete both;
#   2. a pod shaped like an injected one: an init container with NET_ADMIN that writes NAT rules
#      into the pod's network namespace (iptables-nft and iptables-legacy, from java-base), a native
#      sidecar (init container with restartPolicy: Always) listening on :14001, and an agent
#      container whose connection to an arbitrary address:9999 lands on the sidecar because of
#      those rules. With SMOKE_SIDECAR_IMAGE=capgate.local/sidecar:dev the init and sidecar
#      containers run that image's `init` and `proxy` modes instead (as root+NET_ADMIN / uid 1447).
#   3. an admission webhook served by a pod behind a Service: the apiserver (a host process)
#      reaches it through the ClusterIP, like Capgate's webhook; one ConfigMap allowed, one denied.
# Prints timings. Leaves nothing behind (its namespace and webhook configuration are deleted).
set -euo pipefail
source "$(dirname "$0")/env.sh"
T0=$(date +%s.%N)
export KUBECONFIG=$KUBECONFIG_ADMIN
NS=capgate-smoke
AGENT=capgate.local/agent:dev
BASE=capgate.local/java-base:25
SIDECAR_IMAGE=${SMOKE_SIDECAR_IMAGE:-}
WORK=$E2E_DIR/smoke
rm -rf "$WORK"; mkdir -p "$WORK"

step() { printf '\n[smoke %6ss] == %s\n' "$(elapsed "$T0")" "$*" >&2; }
show() { printf '  $ %s\n' "$*" >&2; "$@" 2>&1 | sed 's/^/    /' >&2; }
cleanup() {
  kc delete validatingwebhookconfiguration capgate-smoke --ignore-not-found >/dev/null 2>&1 || true
  kc delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

kc delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kc create namespace "$NS" >/dev/null
until kc -n "$NS" get serviceaccount default >/dev/null 2>&1; do sleep 0.3; done

step "1. kubectl run (imagePullPolicy Never), Service, exec curl, logs, delete"
t=$(date +%s.%N)
show kc -n "$NS" run agent --image="$AGENT" --image-pull-policy=Never
show kc -n "$NS" run web --image="$AGENT" --image-pull-policy=Never --port=8080 -- python3 -m http.server 8080 --bind ::
show kc -n "$NS" wait --for=condition=Ready pod/agent pod/web --timeout=120s
printf '  two pods Ready %ss after "kubectl run"\n' "$(elapsed "$t")" >&2
show kc -n "$NS" expose pod web --name=web --port=80 --target-port=8080
show kc -n "$NS" get pods,svc -o wide
web_ip=$(kc -n "$NS" get svc web -o jsonpath='{.spec.clusterIP}')
# kube-proxy programs the new Service within a sync; retry briefly rather than race it.
for _ in $(seq 1 20); do
  kc -n "$NS" exec agent -- curl -sS -o /dev/null --max-time 3 "http://$web_ip/" 2>/dev/null && break; sleep 0.5
done
show kc -n "$NS" exec agent -- sh -c "id; curl -sS -o /dev/null -w 'GET http://web ($web_ip) -> %{http_code} from %{remote_ip}\n' --max-time 5 http://$web_ip/"
show kc -n "$NS" exec agent -- sh -c "curl -sS --max-time 5 -k https://$KUBERNETES_SERVICE_IP/version | head -4"
show kc -n "$NS" get pod web -o jsonpath='pod IPs of web: {.status.podIPs[*].ip}{"\n"}'
if [ "$POD_IPV6" = 1 ]; then
  web_ip6=$(kc -n "$NS" get pod web -o jsonpath='{.status.podIPs[1].ip}')
  show kc -n "$NS" exec agent -- curl -sS -o /dev/null -w "GET http://[$web_ip6]:8080 (pod to pod over IPv6) -> %{http_code}\n" --max-time 5 "http://[$web_ip6]:8080/"
fi
show kc -n "$NS" logs web --tail=3
show kc -n "$NS" delete pod agent web --grace-period=1
show kc -n "$NS" delete svc web

step "2. init container with NET_ADMIN + native sidecar + agent"
if [ -n "$SIDECAR_IMAGE" ]; then
  init_spec="image: $SIDECAR_IMAGE
      args: [init]"
  sidecar_spec="image: $SIDECAR_IMAGE
      args: [proxy]
      securityContext: {runAsUser: 1447, runAsGroup: 1447, runAsNonRoot: true, allowPrivilegeEscalation: false}"
else
  # What the sidecar's init mode does, reduced: NAT rules in the pod's own netns, with both
  # iptables back ends and iptables-restore, as root with NET_ADMIN only.
  init_spec="image: $BASE
      command: [sh, -c]
      args:
        - |
          set -e
          iptables-nft -t nat -N CAPGATE_OUTPUT
          iptables-nft -t nat -A CAPGATE_OUTPUT -p tcp --dport 9999 -j REDIRECT --to-ports 14001
          iptables-nft -t nat -A OUTPUT -p tcp -j CAPGATE_OUTPUT
          ip6tables-nft -t nat -A OUTPUT -p tcp --dport 9999 -j REDIRECT --to-ports 14001
          iptables-legacy -t nat -N CAPGATE_LEGACY_PROBE
          iptables-legacy -t nat -X CAPGATE_LEGACY_PROBE
          printf '*nat\\n:CAPGATE_RESTORE - [0:0]\\nCOMMIT\\n' | iptables-restore --noflush
          iptables-nft-save -t nat | grep -E 'CAPGATE|REDIRECT'
          echo \"iptables-nft, iptables-legacy, iptables-restore: ok (uid \$(id -u))\""
  # A stand-in proxy on :14001 as uid 1447 (python from the agent image).
  sidecar_spec="image: $AGENT
      command: [python3, -c]
      args:
        - |
          import http.server, socketserver
          class H(http.server.BaseHTTPRequestHandler):
              def do_GET(self):
                  body = b'reached the sidecar on :14001\\n'
                  self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
          socketserver.TCPServer(('0.0.0.0', 14001), H).serve_forever()
      securityContext: {runAsUser: 1447, runAsGroup: 1447}"
fi
t=$(date +%s.%N)
cat > "$WORK/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: injected-shape}
spec:
  terminationGracePeriodSeconds: 2
  initContainers:
    - name: capgate-init
      $init_spec
      imagePullPolicy: Never
      securityContext:
        runAsUser: 0
        runAsNonRoot: false
        capabilities: {add: [NET_ADMIN, NET_RAW], drop: [ALL]}
    - name: capgate-proxy
      restartPolicy: Always
      $sidecar_spec
      imagePullPolicy: Never
      startupProbe: {tcpSocket: {port: 14001}, periodSeconds: 1, failureThreshold: 60}
  containers:
    - name: agent
      image: $AGENT
      imagePullPolicy: Never
EOF
kc -n "$NS" apply -f "$WORK/pod.yaml" >/dev/null
show kc -n "$NS" wait --for=condition=Ready pod/injected-shape --timeout=180s
printf '  pod Ready %ss after apply (init ran, sidecar started before the agent)\n' "$(elapsed "$t")" >&2
show kc -n "$NS" get pod injected-shape -o jsonpath='{range .status.initContainerStatuses[*]}{.name}: {.state}{"\n"}{end}{range .status.containerStatuses[*]}{.name}: {.state}{"\n"}{end}'
show kc -n "$NS" logs injected-shape -c capgate-init
if [ -z "$SIDECAR_IMAGE" ]; then
  show kc -n "$NS" exec injected-shape -c agent -- curl -sS --max-time 5 http://10.1.2.3:9999/
else
  show kc -n "$NS" logs injected-shape -c capgate-proxy
  show kc -n "$NS" exec injected-shape -c agent -- curl -sS --max-time 5 http://127.0.0.1:14001/
fi
show kc -n "$NS" delete pod injected-shape --grace-period=1

step "3. the apiserver calls an admission webhook through its Service (host -> ClusterIP -> pod)"
t=$(date +%s.%N)
wh_dir=$WORK/webhook; mkdir -p "$wh_dir"
# A serving certificate for the Service's DNS name, self-signed: the webhook configuration's
# caBundle is that certificate itself.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=webhook.$NS.svc" \
  -addext "subjectAltName=DNS:webhook.$NS.svc" -keyout "$wh_dir/tls.key" -out "$wh_dir/tls.crt" 2>/dev/null
cat > "$wh_dir/webhook.py" <<'PY'
# Denies ConfigMaps named "denied-by-webhook", allows everything else: enough to see the round trip.
import http.server, json, ssl
class Review(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["request"]
        allowed = req["object"]["metadata"].get("name") != "denied-by-webhook"
        response = {"uid": req["uid"], "allowed": allowed}
        if not allowed:
            response["status"] = {"code": 403, "message": "denied by the smoke webhook"}
        body = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain("/webhook/tls.crt", "/webhook/tls.key")
server = http.server.HTTPServer(("0.0.0.0", 8443), Review)
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
kc -n "$NS" create secret generic webhook --from-file="$wh_dir/tls.crt" --from-file="$wh_dir/tls.key" --from-file="$wh_dir/webhook.py" >/dev/null
cat > "$wh_dir/webhook.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: webhook, labels: {app: webhook}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: webhook
      image: $AGENT
      imagePullPolicy: Never
      command: [python3, /webhook/webhook.py]
      readinessProbe: {tcpSocket: {port: 8443}, periodSeconds: 1}
      volumeMounts: [{name: webhook, mountPath: /webhook, readOnly: true}]
  volumes: [{name: webhook, secret: {secretName: webhook}}]
---
apiVersion: v1
kind: Service
metadata: {name: webhook}
spec:
  selector: {app: webhook}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: capgate-smoke}
webhooks:
  - name: smoke.capgate.dev
    clientConfig:
      service: {namespace: $NS, name: webhook, path: /validate, port: 443}
      caBundle: $(base64 -w0 "$wh_dir/tls.crt")
    rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}]
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $NS}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
EOF
kc apply -n "$NS" -f "$wh_dir/webhook.yaml" >/dev/null
show kc -n "$NS" wait --for=condition=Ready pod/webhook --timeout=60s
wh_ip=$(kc -n "$NS" get svc webhook -o jsonpath='{.spec.clusterIP}')
# The apiserver is a host process: it reaches the ClusterIP through kube-proxy's OUTPUT rules,
# exactly like this curl from the host does.
for _ in $(seq 1 20); do curl -sk -o /dev/null --max-time 2 "https://$wh_ip/" && break; sleep 0.5; done
show curl -sS -o /dev/null -w "host -> https://$wh_ip (Service webhook): TLS ok, HTTP %{http_code}\n" --cacert "$wh_dir/tls.crt" \
  --resolve "webhook.$NS.svc:443:$wh_ip" "https://webhook.$NS.svc/"
show kc -n "$NS" create configmap allowed-by-webhook --from-literal=k=v
if kc -n "$NS" create configmap denied-by-webhook --from-literal=k=v > "$wh_dir/denied.out" 2>&1; then
  die "the webhook did not deny"
fi
sed 's/^/    /' "$wh_dir/denied.out" >&2
printf '  webhook round trip proven %ss after apply\n' "$(elapsed "$t")" >&2
kc delete validatingwebhookconfiguration capgate-smoke >/dev/null
rm -rf "$wh_dir"

step "done"
kc delete namespace "$NS" --wait=true >/dev/null
rm -rf "$WORK"
trap - EXIT
printf '[smoke %6ss] all steps passed\n' "$(elapsed "$T0")" >&2
