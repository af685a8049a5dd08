// Command grpc-testserver is the gRPC upstream of the sidecar's GrpcIT: grpc-go's interop
// TestService (unary, server streaming, client streaming, full duplex; pre-generated stubs from
// google.golang.org/grpc/interop) over TLS with a test certificate, server reflection (so grpcurl
// needs no .proto files), and a check of the `authorization` metadata on every call: a call without
// the expected bearer token fails with UNAUTHENTICATED. So a call that succeeds proves the sidecar
// injected the credential. Built by hack/tools.sh (make tools).
//
// The expected token is read from a file (-token-file), never taken from the command line.
// Every answer carries the trailer x-seen-authorization with the authorization value it received:
// an echo the sidecar's response scrubber must mask before the agent sees it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/interop"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cert := flag.String("cert", "", "PEM certificate chain")
	key := flag.String("key", "", "PEM private key")
	tokenFile := flag.String("token-file", "", "file holding the bearer token every call must carry")
	flag.Parse()
	raw, err := os.ReadFile(*tokenFile)
	want := strings.TrimSpace(string(raw))
	if err != nil || want == "" || *cert == "" || *key == "" {
		log.Fatal("need -token-file (non-empty), -cert and -key")
	}
	creds, err := credentials.NewServerTLSFromFile(*cert, *key)
	if err != nil {
		log.Fatal(err)
	}
	check := func(ctx context.Context) error {
		md, _ := metadata.FromIncomingContext(ctx)
		got := md.Get("authorization")
		seen := ""
		if len(got) > 0 {
			seen = got[0]
		}
		grpc.SetTrailer(ctx, metadata.Pairs("x-seen-authorization", seen))
		if len(got) != 1 || got[0] != "Bearer "+want {
			return status.Error(codes.Unauthenticated, "missing or wrong authorization metadata")
		}
		return nil
	}
	reflected := func(method string) bool {
		return strings.HasPrefix(method, "/grpc.reflection.")
	}
	server := grpc.NewServer(
		grpc.Creds(creds),
		grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := check(ctx); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if !reflected(info.FullMethod) {
				md, _ := metadata.FromIncomingContext(ss.Context())
				got := md.Get("authorization")
				seen := ""
				if len(got) > 0 {
					seen = got[0]
				}
				ss.SetTrailer(metadata.Pairs("x-seen-authorization", seen))
				if len(got) != 1 || got[0] != "Bearer "+want {
					return status.Error(codes.Unauthenticated, "missing or wrong authorization metadata")
				}
			}
			return h(srv, ss)
		}),
	)
	testgrpc.RegisterTestServiceServer(server, interop.NewTestServer())
	reflection.Register(server)
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The test reads the bound address from this line.
	fmt.Printf("listening %s\n", lis.Addr())
	os.Stdout.Sync()
	if err := server.Serve(lis); err != nil {
		log.Fatal(err)
	}
}
