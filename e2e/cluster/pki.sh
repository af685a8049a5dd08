#!/usr/bin/env bash
# The cluster's PKI, with openssl: one CA (EC P-256) that signs every serving and client
# certificate, and the service-account signing key (RSA 2048: every JWT consumer accepts RS256,
# OpenBao's Kubernetes auth included). Idempotent: existing files are kept, so a restarted cluster
# keeps its kubeconfigs valid; `cluster-down.sh --purge` starts over.
set -euo pipefail
source "$(dirname "$0")/env.sh"
mkdir -p "$PKI"; chmod 700 "$PKI"; cd "$PKI"

key() { [ -s "$1.key" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

if [ ! -s ca.crt ]; then
  key ca
  openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=capgate-e2e-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.crt 2>/dev/null
fi
if [ ! -s sa.key ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub
fi

# Serving certificates name the node's address: on another machine (or a new address) they are re-issued.
for c in apiserver kubelet-serving; do
  [ -s $c.crt ] && ! openssl x509 -in $c.crt -noout -ext subjectAltName | grep -q "IP Address:$NODE_IP\b" && rm -f $c.crt
done

# cert NAME SUBJECT USAGE [SAN]   USAGE: serverAuth | clientAuth
cert() {
  local name=$1 subj=$2 usage=$3 san=${4:-}
  [ -s "$name.crt" ] && return
  key "$name"
  local args=(-addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature"
              -addext "extendedKeyUsage=$usage")
  [ -n "$san" ] && args+=(-addext "subjectAltName=$san")
  openssl req -new -key "$name.key" -subj "$subj" "${args[@]}" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 825 \
    -copy_extensions copy -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

cert apiserver "/CN=kube-apiserver" serverAuth \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP"
# The apiserver's identity towards kubelets (logs, exec, port-forward): a cluster admin.
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=capgate-e2e-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
# The Node authorizer and NodeRestriction recognise the kubelet by this name and group.
cert kubelet-client "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
# Signed by the cluster CA, so the apiserver verifies the kubelet (--kubelet-certificate-authority).
cert kubelet-serving "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
chmod 600 ./*.key

# kubeconfigs with everything embedded: they can be copied anywhere (tests, helm, kubectl).
kubeconfig() {  # NAME USER
  local out=$E2E_DIR/$1.kubeconfig
  [ "$1" = admin ] && out=$KUBECONFIG_ADMIN
  [ -s "$out" ] && grep -q "server: https://$NODE_IP:$APISERVER_PORT" "$out" && return
  cat > "$out" <<KC
apiVersion: v1
kind: Config
clusters:
- name: capgate-e2e
  cluster:
    server: https://$NODE_IP:$APISERVER_PORT
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "$1.crt")
    client-key-data: $(base64 -w0 "$1.key")
contexts:
- name: capgate-e2e
  context: {cluster: capgate-e2e, user: $2}
current-context: capgate-e2e
KC
  chmod 600 "$out"
}
kubeconfig admin capgate-e2e-admin
kubeconfig controller-manager system:kube-controller-manager
kubeconfig scheduler system:kube-scheduler
kubeconfig kube-proxy system:kube-proxy
kubeconfig kubelet-client "system:node:$NODE_NAME"
