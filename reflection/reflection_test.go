package reflection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/rpctest"
	"polyconnect.dev/reflection"
	rpb "polyconnect.dev/reflection/internal/reflectionv1"
	"polyconnect.dev/reflection/internal/reflectionv1/reflectionv1rpc"
	"polyconnect.dev/reflection/internal/reflectionv1alpha"
	"polyconnect.dev/reflection/internal/reflectionv1alpha/reflectionv1alpharpc"
)

// session is one reflection stream, asked one question at a time. It speaks
// v1 or, converting through the wire format, v1alpha.
type session struct {
	t    *testing.T
	ask1 func(*rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error)
	end  func() error
}

// server mounts both versions of r on an in-memory server.
func server(t *testing.T, r *reflection.Reflector) *rpctest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, mount := range []func(*reflection.Reflector, ...rpc.HandlerOption) (string, http.Handler){reflection.NewHandlerV1, reflection.NewHandlerV1Alpha} {
		path, h := mount(r)
		mux.Handle(path, h)
	}
	return rpctest.NewServer(t, mux)
}

// open starts a v1 or v1alpha stream over HTTP/2 (full duplex) with the given
// client options.
func open(t *testing.T, srv *rpctest.Server, alpha bool, opts ...rpc.ClientOption) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	if !alpha {
		call, err := reflectionv1rpc.NewServerReflectionClient(srv.HTTP2Client(), srv.URL(), opts...).ServerReflectionInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return &session{t: t,
			ask1: func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
				if err := call.Send(req); err != nil {
					return nil, err
				}
				return call.Receive()
			},
			end: func() error { return closeAndDrain(call) },
		}
	}
	call, err := reflectionv1alpharpc.NewServerReflectionClient(srv.HTTP2Client(), srv.URL(), opts...).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &session{t: t,
		ask1: func(req *rpb.ServerReflectionRequest) (*rpb.ServerReflectionResponse, error) {
			areq := new(reflectionv1alpha.ServerReflectionRequest)
			mustConvert(t, req, areq)
			if err := call.Send(areq); err != nil {
				return nil, err
			}
			ares, err := call.Receive()
			if err != nil {
				return nil, err
			}
			res := new(rpb.ServerReflectionResponse)
			mustConvert(t, ares, res)
			return res, nil
		},
		end: func() error { return closeAndDrain(call) },
	}
}

func closeAndDrain[Req, Res any](call *rpc.BidiStreamCall[Req, Res]) error {
	if err := call.CloseSend(); err != nil {
		return err
	}
	res, err := call.Receive()
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		return fmt.Errorf("a response nobody asked for: %v", res)
	}
	return err
}

func mustConvert(t *testing.T, from, to proto.Message) {
	t.Helper()
	b, err := proto.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, to); err != nil {
		t.Fatal(err)
	}
}

func (s *session) ask(req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
	s.t.Helper()
	res, err := s.ask1(req)
	if err != nil {
		s.t.Fatalf("ask %v: %v", req, err)
	}
	if !proto.Equal(res.GetOriginalRequest(), req) {
		s.t.Fatalf("original_request %v; want %v", res.GetOriginalRequest(), req)
	}
	if res.GetValidHost() != req.GetHost() {
		s.t.Fatalf("valid_host %q; want %q", res.GetValidHost(), req.GetHost())
	}
	return res
}

// files asks req and returns the paths of the files in the answer, in order.
func (s *session) files(req *rpb.ServerReflectionRequest) []string {
	s.t.Helper()
	res := s.ask(req)
	if res.GetFileDescriptorResponse() == nil {
		s.t.Fatalf("ask %v: %v; want files", req, res)
	}
	var paths []string
	for _, b := range res.GetFileDescriptorResponse().GetFileDescriptorProto() {
		var fdp descriptorpb.FileDescriptorProto
		if err := proto.Unmarshal(b, &fdp); err != nil {
			s.t.Fatalf("ask %v: a file that does not parse: %v", req, err)
		}
		paths = append(paths, fdp.GetName())
	}
	return paths
}

// wantError asks req and expects an ErrorResponse with code.
func (s *session) wantError(req *rpb.ServerReflectionRequest, code rpc.Code) {
	s.t.Helper()
	res := s.ask(req)
	e := res.GetErrorResponse()
	if e == nil || e.GetErrorCode() != int32(code) || e.GetErrorMessage() == "" {
		s.t.Fatalf("ask %v: %v; want an error response with code %d (%v)", req, res, int32(code), code)
	}
}

func byFile(path string) *rpb.ServerReflectionRequest {
	return &rpb.ServerReflectionRequest{Host: "h", MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: path}}
}

func bySymbol(name string) *rpb.ServerReflectionRequest {
	return &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: name}}
}

func byExtension(containing string, number int32) *rpb.ServerReflectionRequest {
	return &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingExtension{
		FileContainingExtension: &rpb.ExtensionRequest{ContainingType: containing, ExtensionNumber: number},
	}}
}

func extensionsOf(message string) *rpb.ServerReflectionRequest {
	return &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_AllExtensionNumbersOfType{AllExtensionNumbersOfType: message}}
}

func listServices() *rpb.ServerReflectionRequest {
	return &rpb.ServerReflectionRequest{Host: "example.com:443", MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}}
}

func wantPaths(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("files %q; want %q", got, want)
	}
}

// clientCases are the protocols the reflection service is called with, over
// HTTP/2 so the stream is full duplex.
var clientCases = []struct {
	name string
	opts []rpc.ClientOption
}{
	{"grpc", []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC)}},
	{"grpcweb", []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPCWeb)}},
	{"connect", nil},
	{"connect-json", []rpc.ClientOption{rpc.WithProtoJSON()}},
}

func TestReflection(t *testing.T) {
	files := fixtureFiles(t)
	r := reflection.NewReflector([]string{"test.svc.Svc", "test.extra.Extra", reflection.ServiceNameV1},
		reflection.WithResolver(files), reflection.WithFiles(extraFile(t, files)))
	srv := server(t, r)
	for _, cc := range clientCases {
		for _, alpha := range []bool{false, true} {
			name := cc.name + "/v1"
			if alpha {
				name = cc.name + "/v1alpha"
			}
			t.Run(name, func(t *testing.T) {
				s := open(t, srv, alpha, cc.opts...)

				res := s.ask(listServices())
				var names []string
				for _, svc := range res.GetListServicesResponse().GetService() {
					names = append(names, svc.GetName())
				}
				if want := []string{"test.svc.Svc", "test.extra.Extra", "grpc.reflection.v1.ServerReflection"}; !slices.Equal(names, want) {
					t.Fatalf("list_services %q; want %q", names, want)
				}

				// A file comes with its imports; files already sent on the
				// stream are not sent again as imports, but always when asked
				// for themselves.
				wantPaths(t, s.files(byFile("test/svc.proto")), "test/svc.proto", "test/dep.proto")
				wantPaths(t, s.files(bySymbol("test.ext.Holder")), "test/ext.proto")
				wantPaths(t, s.files(byFile("test/dep.proto")), "test/dep.proto")

				// Every kind of symbol finds its file.
				for _, sym := range []string{"test.svc.Svc", "test.svc.Svc.Do", "test.svc.Req", "test.svc.Req.text",
					"test.svc.Req.Inner", "test.svc.Req.Kind", "test.svc.Req.KIND_UNSPECIFIED"} {
					wantPaths(t, s.files(bySymbol(sym)), "test/svc.proto")
				}
				wantPaths(t, s.files(bySymbol("test.ext.note")), "test/ext.proto")
				wantPaths(t, s.files(bySymbol("test.ext.Holder.flag")), "test/ext.proto")

				// Extensions, top-level and nested.
				wantPaths(t, s.files(byExtension("test.dep.Base", 150)), "test/ext.proto")
				wantPaths(t, s.files(byExtension("test.dep.Base", 120)), "test/ext.proto")
				res = s.ask(extensionsOf("test.dep.Base"))
				if got := res.GetAllExtensionNumbersResponse(); got.GetBaseTypeName() != "test.dep.Base" || !slices.Equal(got.GetExtensionNumber(), []int32{100, 120, 150}) {
					t.Fatalf("all_extension_numbers_of_type: %v", res)
				}
				res = s.ask(extensionsOf("test.dep.Common"))
				if got := res.GetAllExtensionNumbersResponse(); got.GetBaseTypeName() != "test.dep.Common" || len(got.GetExtensionNumber()) != 0 {
					t.Fatalf("all_extension_numbers_of_type: %v", res)
				}

				// Files given with WithFiles, and the package's own.
				wantPaths(t, s.files(bySymbol("test.extra.Extra")), "extra/extra.proto")
				wantPaths(t, s.files(bySymbol("grpc.reflection.v1.ServerReflection")), "polyconnect/grpc/reflection/v1/reflection.proto")
				wantPaths(t, s.files(bySymbol("grpc.reflection.v1alpha.ServerReflectionResponse")), "polyconnect/grpc/reflection/v1alpha/reflection.proto")

				// Failures are answered in band and the stream goes on.
				s.wantError(byFile("missing.proto"), rpc.CodeNotFound)
				s.wantError(byFile(""), rpc.CodeNotFound)
				s.wantError(bySymbol("test.svc.Missing"), rpc.CodeNotFound)
				s.wantError(bySymbol("not a name!"), rpc.CodeNotFound)
				s.wantError(byExtension("test.dep.Base", 199), rpc.CodeNotFound)
				s.wantError(byExtension("test.dep.Missing", 100), rpc.CodeNotFound)
				s.wantError(extensionsOf("test.dep.Missing"), rpc.CodeNotFound)
				s.wantError(extensionsOf("test.svc.Svc"), rpc.CodeInvalidArgument)
				s.wantError(&rpb.ServerReflectionRequest{Host: "h"}, rpc.CodeInvalidArgument)
				wantPaths(t, s.files(bySymbol("test.dep.Common")), "test/dep.proto")

				if err := s.end(); err != nil {
					t.Fatalf("end of stream: %v", err)
				}
			})
		}
	}
}

// TestFilesAreComplete rebuilds what a fresh stream sends for a symbol: the
// files must be the whole closure of its imports, and equal to the originals.
func TestFilesAreComplete(t *testing.T) {
	files := fixtureFiles(t)
	srv := server(t, reflection.NewReflector(nil, reflection.WithResolver(files)))
	s := open(t, srv, false)
	res := s.ask(bySymbol("test.ext.level"))
	var set descriptorpb.FileDescriptorSet
	for _, b := range res.GetFileDescriptorResponse().GetFileDescriptorProto() {
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fdp); err != nil {
			t.Fatal(err)
		}
		set.File = append(set.File, fdp)
	}
	rebuilt, err := protodesc.NewFiles(&set)
	if err != nil {
		t.Fatalf("the files sent do not stand on their own: %v", err)
	}
	for _, path := range []string{"test/ext.proto", "test/dep.proto"} {
		orig, _ := files.FindFileByPath(path)
		got, err := rebuilt.FindFileByPath(path)
		if err != nil {
			t.Fatalf("%s not sent", path)
		}
		if !proto.Equal(protodesc.ToFileDescriptorProto(got), protodesc.ToFileDescriptorProto(orig)) {
			t.Errorf("%s differs from the original", path)
		}
	}
}

// TestOwnDescriptorsHaveStandardNames checks that the reflection service
// describes itself with the names of grpc.reflection.v1, not the private
// names its Go messages are registered under.
func TestOwnDescriptorsHaveStandardNames(t *testing.T) {
	srv := server(t, reflection.NewReflector(nil))
	s := open(t, srv, false)
	res := s.ask(bySymbol(reflection.ServiceNameV1 + ".ServerReflectionInfo"))
	var fdp descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(res.GetFileDescriptorResponse().GetFileDescriptorProto()[0], &fdp); err != nil {
		t.Fatal(err)
	}
	m := fdp.GetService()[0].GetMethod()[0]
	if fdp.GetPackage() != "grpc.reflection.v1" || m.GetInputType() != ".grpc.reflection.v1.ServerReflectionRequest" ||
		m.GetOutputType() != ".grpc.reflection.v1.ServerReflectionResponse" || !m.GetClientStreaming() || !m.GetServerStreaming() {
		t.Fatalf("descriptor of the reflection service: package %q, method %v", fdp.GetPackage(), m)
	}
}

// TestGlobalFilesByDefault checks the default resolver: every file compiled
// into the program.
func TestGlobalFilesByDefault(t *testing.T) {
	srv := server(t, reflection.NewReflector(nil))
	s := open(t, srv, false)
	wantPaths(t, s.files(bySymbol("google.protobuf.FileDescriptorProto")), "google/protobuf/descriptor.proto")
	if _, err := protoregistry.GlobalFiles.FindFileByPath("test/svc.proto"); err == nil {
		t.Fatal("the fixture leaked into the global registry")
	}
	s.wantError(bySymbol("test.svc.Svc"), rpc.CodeNotFound)
	// The package's private copies of its messages are registered globally
	// under names of their own; the standard names are not.
	if _, err := protoregistry.GlobalFiles.FindDescriptorByName("grpc.reflection.v1.ServerReflection"); err == nil {
		t.Fatal("grpc.reflection.v1.ServerReflection is in the global registry")
	}
}

// TestListServicesFunc checks that NewReflectorFunc asks for the names on
// every list request.
func TestListServicesFunc(t *testing.T) {
	var mu sync.Mutex
	names := []string{"a.v1.A"}
	r := reflection.NewReflectorFunc(func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(names)
	})
	s := open(t, server(t, r), false)
	list := func() []string {
		var out []string
		for _, svc := range s.ask(listServices()).GetListServicesResponse().GetService() {
			out = append(out, svc.GetName())
		}
		return out
	}
	if got := list(); !slices.Equal(got, []string{"a.v1.A"}) {
		t.Fatalf("list %q", got)
	}
	mu.Lock()
	names = append(names, "b.v1.B")
	mu.Unlock()
	if got := list(); !slices.Equal(got, []string{"a.v1.A", "b.v1.B"}) {
		t.Fatalf("list %q", got)
	}
}

// TestHalfDuplexHTTP1 calls reflection with Connect over HTTP/1.1, where a
// bidirectional stream is half duplex: all requests first, then all answers.
func TestHalfDuplexHTTP1(t *testing.T) {
	files := fixtureFiles(t)
	srv := server(t, reflection.NewReflector([]string{"test.svc.Svc"}, reflection.WithResolver(files)))
	call, err := reflectionv1rpc.NewServerReflectionClient(srv.Client(), srv.URL()).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*rpb.ServerReflectionRequest{listServices(), bySymbol("test.svc.Svc"), byFile("test/dep.proto")} {
		if err := call.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := call.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for res, err := range call.All() {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case res.GetListServicesResponse() != nil:
			kinds = append(kinds, "list")
		case res.GetFileDescriptorResponse() != nil:
			kinds = append(kinds, "files", string(rune('0'+len(res.GetFileDescriptorResponse().GetFileDescriptorProto()))))
		default:
			kinds = append(kinds, "other")
		}
	}
	// test/dep.proto came with the service's file, and again when asked for.
	if want := []string{"list", "files", "2", "files", "1"}; !slices.Equal(kinds, want) {
		t.Fatalf("answers %q; want %q", kinds, want)
	}
}

func TestWithFilesConflictPanics(t *testing.T) {
	files := fixtureFiles(t)
	extra := extraFile(t, files)
	// The same file twice is fine.
	reflection.NewReflector(nil, reflection.WithFiles(extra, extra))

	// A different file declaring the same service is not.
	fdp := protodesc.ToFileDescriptorProto(extra)
	fdp.Name = proto.String("extra/copy.proto")
	other, err := protodesc.NewFile(fdp, files)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for two files declaring test.extra.Extra")
		}
	}()
	reflection.NewReflector(nil, reflection.WithFiles(extra, other))
}
