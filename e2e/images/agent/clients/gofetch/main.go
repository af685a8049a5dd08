// gofetch: the Go net/http client of the client matrix (e2e ClientMatrixE2E). Default transport,
// no configuration: the system roots come from SSL_CERT_FILE (set by the Capgate webhook) and
// HTTP/2 is negotiated by ALPN as usual. Prints "proto=<proto> status=<code>" and the body's start;
// "-h1": a fresh Transport allowing HTTP/1.1 only (Transport.Protocols, Go 1.24+). A clone of
// DefaultTransport with an empty TLSNextProto map still offered h2 in ALPN with go1.26, then spoke
// HTTP/1.1 — which an h2 server (Vert.x here, the sidecar in the pod) rightly rejects.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	args := os.Args[1:]
	client := http.DefaultClient
	if len(args) > 0 && args[0] == "-h1" {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		t := &http.Transport{Proxy: http.ProxyFromEnvironment, Protocols: p}
		client = &http.Client{Transport: t}
		args = args[1:]
	}
	resp, err := client.Get(args[0])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(2)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 400))
	fmt.Printf("proto=%s status=%d\n%s\n", resp.Proto, resp.StatusCode, body)
}
