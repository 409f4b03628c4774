package interop

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"polyconnect.dev/health"
	pingv1 "polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1"
	"polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1/pingv1rpc"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
	"polyconnect.dev/reflection"
	_ "polyconnect.dev/transport-nethttp" // registers h2c and h2
	"polyconnect.dev/transport-nethttp/certs"
)

// The health and reflection tests (frontdoor_*_test.go) run a server as a user
// would build one: a generated service, the health service and both versions
// of server reflection on one mux, served by polyconnect's own transports.

// pingService implements polyconnect.interop.ping.v1.PingService.
type pingService struct{}

func (pingService) Ping(_ context.Context, req *pingv1.PingRequest) (*pingv1.PingResponse, error) {
	return &pingv1.PingResponse{Text: req.GetText(), AnsweredAt: timestamppb.Now()}, nil
}

func (pingService) Count(_ context.Context, req *pingv1.CountRequest, stream *rpc.ServerStream[pingv1.CountResponse]) error {
	if req.GetUpTo() < 0 || req.GetUpTo() > 100 {
		return rpc.NewError(rpc.CodeInvalidArgument, "up_to must be between 0 and 100")
	}
	for n := int32(1); n <= req.GetUpTo(); n++ {
		if err := stream.Send(&pingv1.CountResponse{Number: n}); err != nil {
			return err
		}
	}
	return nil
}

// frontDoorServices are the services the reflector lists.
var frontDoorServices = []string{pingv1rpc.PingServiceName, health.ServiceName, reflection.ServiceNameV1}

// frontDoorConfig chooses what the server mounts.
type frontDoorConfig struct {
	noReflectionV1 bool // serve only v1alpha, as older servers do
}

// frontDoorHandler is the whole server: ping, health and reflection.
func frontDoorHandler(checker *health.Checker, cfg frontDoorConfig) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(pingv1rpc.NewPingServiceHandler(pingService{}))
	mux.Handle(health.NewHandler(checker))
	reflector := reflection.NewReflector(frontDoorServices, reflection.WithFiles(health.FileDescriptor()))
	if !cfg.noReflectionV1 {
		mux.Handle(reflection.NewHandlerV1(reflector))
	}
	mux.Handle(reflection.NewHandlerV1Alpha(reflector))
	return mux
}

// frontDoor is the server on an h2c and a TLS HTTP/2 listener of its own (the
// tools and grpc-go need HTTP/2 for reflection's bidirectional stream).
type frontDoor struct {
	checker *health.Checker
	h2c     transport.Server
	h2      transport.Server
	pki     *certs.PKI
	caFile  string // the CA certificate, PEM, for tools that read it from a file
}

func startFrontDoor(t *testing.T, cfg frontDoorConfig) *frontDoor {
	t.Helper()
	pki, err := certs.NewTestPKI()
	if err != nil {
		t.Fatal(err)
	}
	fd := &frontDoor{checker: health.NewChecker(), pki: pki, caFile: filepath.Join(t.TempDir(), "ca.pem")}
	if err := os.WriteFile(fd.caFile, pki.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	h := frontDoorHandler(fd.checker, cfg)
	fd.h2c = startTransport(t, transport.Config{Name: transport.NameH2C, Addr: "127.0.0.1:0"}, h)
	fd.h2 = startTransport(t, transport.Config{Name: transport.NameH2, Addr: "127.0.0.1:0", TLS: pki.ServerTLS()}, h)
	// Cleanups run last-registered first: the checker shuts down before the
	// servers, so Watch streams end and graceful shutdown does not wait.
	t.Cleanup(fd.checker.Shutdown)
	return fd
}

func startTransport(t *testing.T, cfg transport.Config, h http.Handler) transport.Server {
	t.Helper()
	srv, err := transport.NewServer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Generous: a loaded CI machine may take a while to finish streams.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown %s: %v", cfg.Name, err)
		}
	})
	return srv
}
