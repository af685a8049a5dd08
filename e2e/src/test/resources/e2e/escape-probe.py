# What a process in an agent pod tries in order to get around its sidecar (AdmissionBypassE2E):
# become uid/gid 1447 (the sidecar's, which the iptables rules exempt), then reach a canary
# outside the pod and Vault's API directly. One "PROBE key=value" line per step, nothing secret.
#   python3 escape-probe.py CANARY_HOST CANARY_PORT VAULT_HOST VAULT_PORT
import errno
import os
import socket
import sys

canary_host, canary_port, vault_host, vault_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def line(key, value):
    print(f"PROBE {key}={value}", flush=True)


def status(field):
    try:
        with open("/proc/self/status") as f:
            for l in f:
                if l.startswith(field + ":"):
                    return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


line("uid", os.getuid())
line("CapEff", status("CapEff"))
line("NoNewPrivs", status("NoNewPrivs"))
for name, call in (("setgid", os.setgid), ("setuid", os.setuid)):
    try:
        call(1447)
        line(name, "ok")
    except OSError as e:
        line(name, errno.errorcode.get(e.errno, str(e.errno)))
line("uid_after", os.getuid())


def exchange(host, port, send):
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    data = b""
    try:
        if send:
            s.sendall(send)
        while len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data
    except socket.timeout:
        return data
    finally:
        s.close()


try:
    got = exchange(canary_host, canary_port, None)
    line("canary", "ACK" if b"CANARY-ACK" in got else "connected-no-ack(%r)" % got[:80])
except Exception as e:
    line("canary", "failed(%s: %s)" % (type(e).__name__, e))

try:
    got = exchange(vault_host, vault_port, b"GET /v1/sys/health HTTP/1.0\r\nHost: vault\r\n\r\n")
    first = got.split(b"\r\n", 1)[0].decode("latin-1")
    line("vault", ("reached(%s)" % first) if b'"initialized"' in got else "not-reached(%r)" % first[:80])
except Exception as e:
    line("vault", "not-reached(%s: %s)" % (type(e).__name__, e))
