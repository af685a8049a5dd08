# Polls the sidecar's /readyz on the pod's loopback every 2 ms until it answers 200, then prints
# the wall-clock time (ns since the epoch) of that answer: "start-to-ready" ends there.
import socket, sys, time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 14021
deadline = time.time() + 60
print("polling", flush=True)
while time.time() < deadline:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        if data.startswith(b"HTTP/1.1 200"):
            print("ready", time.time_ns(), flush=True)
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.002)
print("timeout", flush=True)
sys.exit(1)
