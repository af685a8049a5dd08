#!/usr/bin/env bash
# What `make bench` needs besides `make tools` (etcd, kube-apiserver, OpenBao): the load generator
# and the two peer proxies. Idempotent; installs only what is missing.
#   h2load      Debian nghttp2-client
#   squid       Debian squid-openssl (ssl-bump); its service is not started, the bench runs its own
#   mitmproxy   PyPI, in a venv under $CAPGATE_BENCH_CACHE (default /var/cache/capgate/bench): the
#               proxy runs as uid 1447, so the venv must not live under a private home directory,
#               and it is built on Debian's python3 for the same reason (not a pyenv under ~)
#   python3, curl, iptables, setpriv: the agent side and the pod's rules
set -euo pipefail
CACHE=${CAPGATE_BENCH_CACHE:-/var/cache/capgate/bench}
MITMPROXY_VERSION=${MITMPROXY_VERSION:-11.0.2}

if [ "$(id -u)" != 0 ]; then
  echo "bench-tools.sh: make bench needs root (network namespaces, iptables, setpriv)" >&2
  exit 1
fi
missing=()
command -v h2load >/dev/null || missing+=(nghttp2-client)
[ -x /usr/sbin/squid ] && [ -x /usr/lib/squid/security_file_certgen ] || missing+=(squid-openssl)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v curl >/dev/null || missing+=(curl)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench-tools.sh: apt-get install ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
VENV=$CACHE/mitmproxy-venv
if ! "$VENV/bin/mitmdump" --version 2>/dev/null | grep -q "Mitmproxy: $MITMPROXY_VERSION"; then
  echo "bench-tools.sh: mitmproxy $MITMPROXY_VERSION into $VENV" >&2
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "mitmproxy==$MITMPROXY_VERSION"
  chmod -R a+rX "$CACHE"
fi
