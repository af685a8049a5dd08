# The agent side of a revocation trial: keep-alive HTTPS requests through the sidecar every 5 ms.
# Prints {"ready": t} after the first 200, then {"denied": t, ...} for the first refusal after that
# (HTTP 403, or a TLS alert where the sidecar refuses at connection level), t in ns since the epoch,
# and exits. A cut connection alone is not a refusal: it is noted ("cut") and the probe reconnects.
import http.client, json, socket, ssl, sys, time

ca, host, path = sys.argv[1], sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
deadline = time.time() + 180
ready = False
cut = None
conn = None
requests = 0
while time.time() < deadline:
    try:
        if conn is None:
            conn = http.client.HTTPSConnection(host, 443, context=ctx, timeout=5)
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        requests += 1
        if r.status == 200:
            if not ready:
                ready = True
                print(json.dumps({"ready": time.time_ns()}), flush=True)
        elif ready:
            print(json.dumps({"denied": time.time_ns(), "status": r.status, "cut": cut, "requests": requests}), flush=True)
            sys.exit(0)
        else:
            time.sleep(0.05)  # the sidecar has no session yet (403 until the first API answer)
    except ssl.SSLError as e:
        conn = None
        if ready:
            print(json.dumps({"denied": time.time_ns(), "status": "tls " + str(e.reason), "cut": cut,
                              "requests": requests}), flush=True)
            sys.exit(0)
        time.sleep(0.05)
    except (OSError, http.client.HTTPException):
        if conn is not None:
            conn.close()
        conn = None
        if ready and cut is None:
            cut = time.time_ns()
        if not ready:
            time.sleep(0.05)
    if ready:
        time.sleep(0.005)
print(json.dumps({"timeout": time.time_ns(), "requests": requests}), flush=True)
sys.exit(1)
