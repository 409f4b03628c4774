package interop

import (
	"crypto/tls"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/health" // grpc-go's client-side health checking
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionv1 "google.golang.org/grpc/reflection/grpc_reflection_v1"
	reflectionv1alpha "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"polyconnect.dev/health"
	pingv1 "polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1"
	"polyconnect.dev/interop/internal/gen/polyconnect/interop/ping/v1/pingv1rpc"
)

// These tests meet polyconnect's health and reflection services with grpc-go's
// own clients for them. This test binary links grpc-go's copies of
// grpc.health.v1 and grpc.reflection.v1/v1alpha and polyconnect's together:
// that it starts at all shows that the two do not conflict in protobuf's
// global registry, and TestStandardProtosCoexist checks how.

// grpcGoConns dials the front door over h2c and TLS.
func grpcGoConns(t *testing.T, fd *frontDoor, opts ...grpc.DialOption) map[string]*grpc.ClientConn {
	t.Helper()
	conns := make(map[string]*grpc.ClientConn)
	for name, target := range map[string]struct {
		addr  string
		creds credentials.TransportCredentials
	}{
		"h2c": {fd.h2c.Addr().String(), insecure.NewCredentials()},
		"h2":  {fd.h2.Addr().String(), credentials.NewTLS(&tls.Config{RootCAs: fd.pki.CertPool()})},
	} {
		cc, err := grpc.NewClient(target.addr, append([]grpc.DialOption{grpc.WithTransportCredentials(target.creds)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		conns[name] = cc
	}
	return conns
}

func TestGRPCGoHealthClient(t *testing.T) {
	fd := startFrontDoor(t, frontDoorConfig{})
	for name, cc := range grpcGoConns(t, fd) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			c := healthpb.NewHealthClient(cc)
			service := "interop.v1.Watched_" + name // each subtest its own name on the shared checker

			res, err := c.Check(ctx, &healthpb.HealthCheckRequest{})
			if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("Check(\"\") = %v, %v", res, err)
			}
			_, err = c.Check(ctx, &healthpb.HealthCheckRequest{Service: service})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("Check(unknown) error %v; want NotFound", err)
			}

			watch, err := c.Watch(ctx, &healthpb.HealthCheckRequest{Service: service})
			if err != nil {
				t.Fatal(err)
			}
			next := func(want healthpb.HealthCheckResponse_ServingStatus) {
				t.Helper()
				res, err := watch.Recv()
				if err != nil || res.GetStatus() != want {
					t.Fatalf("Watch: %v, %v; want %v", res, err, want)
				}
			}
			next(healthpb.HealthCheckResponse_SERVICE_UNKNOWN)
			fd.checker.SetStatus(service, health.StatusNotServing)
			next(healthpb.HealthCheckResponse_NOT_SERVING)
			fd.checker.SetStatus(service, health.StatusServing)
			next(healthpb.HealthCheckResponse_SERVING)

			list, err := c.List(ctx, &healthpb.HealthListRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if got := list.GetStatuses()[service].GetStatus(); got != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("List: %v", list)
			}
			if got := list.GetStatuses()[""].GetStatus(); got != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("List: %v", list)
			}
		})
	}
}

// TestGRPCGoClientSideHealthChecking lets grpc-go's channel watch the service
// the way production gRPC clients do (healthCheckConfig in the service
// config): the channel is ready only while the service is SERVING.
func TestGRPCGoClientSideHealthChecking(t *testing.T) {
	fd := startFrontDoor(t, frontDoorConfig{})
	fd.checker.SetStatus(pingv1rpc.PingServiceName, health.StatusNotServing)
	const serviceConfig = `{
		"loadBalancingConfig": [{"round_robin": {}}],
		"healthCheckConfig": {"serviceName": "` + pingv1rpc.PingServiceName + `"}
	}`
	for name, cc := range grpcGoConns(t, fd, grpc.WithDefaultServiceConfig(serviceConfig)) {
		t.Run(name, func(t *testing.T) {
			// The test's deadline bounds every wait below.
			ctx := t.Context()
			waitFor := func(want connectivity.State) {
				t.Helper()
				cc.Connect()
				for state := cc.GetState(); state != want; state = cc.GetState() {
					if !cc.WaitForStateChange(ctx, state) {
						t.Fatalf("channel stuck in %v; want %v", state, want)
					}
				}
			}
			waitFor(connectivity.TransientFailure)
			fd.checker.SetStatus(pingv1rpc.PingServiceName, health.StatusServing)
			waitFor(connectivity.Ready)
			var res pingv1.PingResponse
			if err := cc.Invoke(ctx, pingv1rpc.PingServicePingProcedure, &pingv1.PingRequest{Text: "up"}, &res); err != nil || res.GetText() != "up" {
				t.Fatalf("Ping: %v, %v", &res, err)
			}
			fd.checker.SetStatus(pingv1rpc.PingServiceName, health.StatusNotServing)
			waitFor(connectivity.TransientFailure)
		})
	}
}

// reflectionStream is a grpc-go reflection stream of either version, asked
// one question at a time; v1alpha messages are converted to v1 through the
// wire format, which is the same.
type reflectionStream func(*reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error)

func grpcGoReflection(t *testing.T, cc *grpc.ClientConn, alpha bool) reflectionStream {
	t.Helper()
	ctx := t.Context()
	if !alpha {
		stream, err := reflectionv1.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = stream.CloseSend() })
		return func(req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
			if err := stream.Send(req); err != nil {
				return nil, err
			}
			return stream.Recv()
		}
	}
	stream, err := reflectionv1alpha.NewServerReflectionClient(cc).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stream.CloseSend() })
	return func(req *reflectionv1.ServerReflectionRequest) (*reflectionv1.ServerReflectionResponse, error) {
		areq := new(reflectionv1alpha.ServerReflectionRequest)
		if err := convertMessage(req, areq); err != nil {
			return nil, err
		}
		if err := stream.Send(areq); err != nil {
			return nil, err
		}
		ares, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		res := new(reflectionv1.ServerReflectionResponse)
		return res, convertMessage(ares, res)
	}
}

func convertMessage(from, to proto.Message) error {
	b, err := proto.Marshal(from)
	if err != nil {
		return err
	}
	return proto.Unmarshal(b, to)
}

// filesFor asks for the file declaring symbol and builds what comes back
// into a registry: it must stand on its own, imports included.
func filesFor(t *testing.T, ask reflectionStream, symbol string) *protoregistry.Files {
	t.Helper()
	res, err := ask(&reflectionv1.ServerReflectionRequest{
		MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := res.GetErrorResponse(); e != nil {
		t.Fatalf("file_containing_symbol %s: error %d %s", symbol, e.GetErrorCode(), e.GetErrorMessage())
	}
	var set descriptorpb.FileDescriptorSet
	for _, b := range res.GetFileDescriptorResponse().GetFileDescriptorProto() {
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fdp); err != nil {
			t.Fatal(err)
		}
		set.File = append(set.File, fdp)
	}
	files, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatalf("file_containing_symbol %s: files do not build: %v", symbol, err)
	}
	return files
}

func TestGRPCGoReflectionClient(t *testing.T) {
	fd := startFrontDoor(t, frontDoorConfig{})
	for name, cc := range grpcGoConns(t, fd) {
		for _, alpha := range []bool{false, true} {
			version := "v1"
			if alpha {
				version = "v1alpha"
			}
			t.Run(name+"/"+version, func(t *testing.T) {
				ask := grpcGoReflection(t, cc, alpha)

				res, err := ask(&reflectionv1.ServerReflectionRequest{
					MessageRequest: &reflectionv1.ServerReflectionRequest_ListServices{},
				})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, s := range res.GetListServicesResponse().GetService() {
					names = append(names, s.GetName())
				}
				if !slices.Equal(names, frontDoorServices) {
					t.Fatalf("list_services %q; want %q", names, frontDoorServices)
				}

				// The ping service's file comes with timestamp.proto.
				files := filesFor(t, ask, pingv1rpc.PingServiceName)
				d, err := files.FindDescriptorByName("polyconnect.interop.ping.v1.PingResponse.answered_at")
				if err != nil {
					t.Fatal(err)
				}
				if got := d.(protoreflect.FieldDescriptor).Message().FullName(); got != "google.protobuf.Timestamp" {
					t.Fatalf("answered_at is a %s", got)
				}

				// Health is described with its standard names, and the same
				// stream still answers after an error.
				if _, err := ask(&reflectionv1.ServerReflectionRequest{
					MessageRequest: &reflectionv1.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "no.such.Symbol"},
				}); err != nil {
					t.Fatal(err)
				}
				files = filesFor(t, ask, "grpc.health.v1.Health.Watch")
				d, err = files.FindDescriptorByName("grpc.health.v1.Health.Watch")
				if err != nil {
					t.Fatal(err)
				}
				if m := d.(protoreflect.MethodDescriptor); m.Input().FullName() != "grpc.health.v1.HealthCheckRequest" || !m.IsStreamingServer() {
					t.Fatalf("Watch described as %v", m)
				}
			})
		}
	}
}

// TestStandardProtosCoexist checks how polyconnect's health and reflection
// share a program with grpc-go's: grpc-go owns the standard names in the
// global registry, polyconnect's messages are registered under private names,
// and the descriptors polyconnect serves match grpc-go's field for field.
func TestStandardProtosCoexist(t *testing.T) {
	for name, grpcGoPath := range map[protoreflect.FullName]string{
		"grpc.health.v1.Health":                    "grpc/health/v1/health.proto",
		"grpc.reflection.v1.ServerReflection":      "grpc/reflection/v1/reflection.proto",
		"grpc.reflection.v1alpha.ServerReflection": "grpc/reflection/v1alpha/reflection.proto",
	} {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Fatalf("%s is not in the global registry: %v", name, err)
		}
		if path := d.ParentFile().Path(); path != grpcGoPath {
			t.Errorf("%s registered by %s; want grpc-go's %s", name, path, grpcGoPath)
		}
	}
	for _, path := range []string{"polyconnect/internal/grpc/health/v1/health.proto", "polyconnect/internal/grpc/reflection/v1/reflection.proto", "polyconnect/internal/grpc/reflection/v1alpha/reflection.proto"} {
		if _, err := protoregistry.GlobalFiles.FindFileByPath(path); err != nil {
			t.Errorf("polyconnect's private copy %s is not registered: %v", path, err)
		}
	}

	// What polyconnect serves is grpc-go's schema, apart from file-level
	// options, comments and the idempotency options polyconnect adds.
	ours := health.FileDescriptor()
	if ours.Path() != "polyconnect/grpc/health/v1/health.proto" {
		t.Errorf("health descriptor path %q", ours.Path())
	}
	if _, err := protoregistry.GlobalFiles.FindFileByPath(ours.Path()); err == nil {
		t.Errorf("%s is in the global registry", ours.Path())
	}
	sameSchema(t, ours, healthpb.File_grpc_health_v1_health_proto)

	fd := startFrontDoor(t, frontDoorConfig{})
	cc := grpcGoConns(t, fd)["h2c"]
	for _, alpha := range []bool{false, true} {
		ask := grpcGoReflection(t, cc, alpha)
		std := reflectionv1.File_grpc_reflection_v1_reflection_proto
		if alpha {
			std = reflectionv1alpha.File_grpc_reflection_v1alpha_reflection_proto
		}
		served := filesFor(t, ask, string(std.Services().Get(0).FullName()))
		var got protoreflect.FileDescriptor
		served.RangeFiles(func(f protoreflect.FileDescriptor) bool { got = f; return false })
		sameSchema(t, got, std)
	}
}

// sameSchema compares two files' declarations: packages, messages, fields,
// enums, services and methods with their names, numbers, types and streaming.
func sameSchema(t *testing.T, got, want protoreflect.FileDescriptor) {
	t.Helper()
	strip := func(fd protoreflect.FileDescriptor) *descriptorpb.FileDescriptorProto {
		p := protodesc.ToFileDescriptorProto(fd)
		p.Name, p.Options, p.SourceCodeInfo = nil, nil, nil
		for _, s := range p.GetService() {
			for _, m := range s.GetMethod() {
				m.Options = nil
			}
		}
		return p
	}
	if g, w := strip(got), strip(want); !proto.Equal(g, w) {
		t.Errorf("%s does not declare what %s does:\n got %v\nwant %v", got.Path(), want.Path(), g, w)
	}
}
