package health

import (
	"context"
	"net/http"
	"strconv"

	"google.golang.org/protobuf/reflect/protoreflect"

	"polyconnect.dev/health/internal/healthv1"
	"polyconnect.dev/health/internal/healthv1/healthv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// ServiceName is the fully-qualified name of the health service,
// "grpc.health.v1.Health". List it among a server's services for server
// reflection.
const ServiceName = healthv1rpc.HealthName

// NewHandler returns the grpc.health.v1.Health service backed by checker, and
// the path to mount it on, "/grpc.health.v1.Health/", like the handlers that
// protoc-gen-polyconnect-go generates:
//
//	mux.Handle(health.NewHandler(checker))
//
// It answers Check, List and Watch over Connect, gRPC and gRPC-Web. Check and
// List have no side effects, so Connect clients may use HTTP GET. The options
// apply to every method, as they do for generated handlers.
func NewHandler(checker *Checker, opts ...rpc.HandlerOption) (string, http.Handler) {
	return healthv1rpc.NewHealthHandler(service{checker}, opts...)
}

// FileDescriptor describes the health service with its standard names
// (package grpc.health.v1; the file path, polyconnect/grpc/health/v1/health.proto,
// is this module's own). This package keeps it out of protobuf's global
// registry, so that programs that also link grpc-go's copy of the service do
// not fail at start-up; server reflection therefore needs to be given it:
//
//	reflection.NewReflector(names, reflection.WithFiles(health.FileDescriptor()))
func FileDescriptor() protoreflect.FileDescriptor {
	return healthv1.File_polyconnect_grpc_health_v1_health_proto
}

// service adapts a Checker to the generated handler interface.
type service struct{ checker *Checker }

var _ healthv1rpc.HealthHandler = service{}

// Check answers with the status of the requested service, or NOT_FOUND.
func (s service) Check(_ context.Context, req *healthv1.HealthCheckRequest) (*healthv1.HealthCheckResponse, error) {
	status, found, _ := s.checker.report(req.GetService())
	if !found {
		return nil, rpc.NewError(rpc.CodeNotFound, "health: unknown service "+strconv.Quote(req.GetService()))
	}
	return &healthv1.HealthCheckResponse{Status: wireStatus(status)}, nil
}

// List answers with the status of every known service.
func (s service) List(context.Context, *healthv1.HealthListRequest) (*healthv1.HealthListResponse, error) {
	statuses := s.checker.list()
	res := &healthv1.HealthListResponse{Statuses: make(map[string]*healthv1.HealthCheckResponse, len(statuses))}
	for name, status := range statuses {
		res.Statuses[name] = &healthv1.HealthCheckResponse{Status: wireStatus(status)}
	}
	return res, nil
}

// Watch sends the status of the requested service at once and then each time
// it changes, until the client goes away or the checker shuts down.
func (s service) Watch(ctx context.Context, req *healthv1.HealthCheckRequest, stream *rpc.ServerStream[healthv1.HealthCheckResponse]) error {
	name := req.GetService()
	w := s.checker.watch(name)
	defer s.checker.unwatch(name, w)
	var last healthv1.HealthCheckResponse_ServingStatus
	sent := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.wake:
		}
		status, found, shutdown := s.checker.report(name)
		next := healthv1.HealthCheckResponse_SERVICE_UNKNOWN
		if found {
			next = wireStatus(status)
		}
		if !sent || next != last {
			if err := stream.Send(&healthv1.HealthCheckResponse{Status: next}); err != nil {
				return err
			}
			last, sent = next, true
		}
		if shutdown {
			return nil
		}
	}
}

// wireStatus converts a Status to its wire enum; the values are the same.
func wireStatus(s Status) healthv1.HealthCheckResponse_ServingStatus {
	return healthv1.HealthCheckResponse_ServingStatus(s)
}
