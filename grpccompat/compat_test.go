package grpccompat_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/grpccompat"
	"polyconnect.dev/protocol/rpc"
)

// testServer is a grpc-go TestServiceServer that exercises what handlers
// use: metadata, SetHeader/SendHeader/SetTrailer, peer, status details.
type testServer struct {
	testgrpc.UnimplementedTestServiceServer
}

func (testServer) EmptyCall(ctx context.Context, _ *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func (testServer) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil, status.Error(codes.Internal, "no incoming metadata")
	}
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil || !strings.HasPrefix(p.Addr.String(), "127.0.0.1:") {
		return nil, status.Errorf(codes.Internal, "peer = %v", p)
	}
	if grpc.ServerTransportStreamFromContext(ctx).Method() != "/grpc.testing.TestService/UnaryCall" {
		return nil, status.Error(codes.Internal, "wrong method")
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("x-header", "h-"+first(md, "x-user"), "x-raw-bin", first(md, "x-raw-bin"))); err != nil {
		return nil, err
	}
	if err := grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t")); err != nil {
		return nil, err
	}
	if s := req.GetResponseStatus(); s != nil {
		st, err := status.New(codes.Code(s.Code), s.Message).WithDetails(wrapperspb.String("detail"))
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	if req.GetResponseSize() < 0 {
		<-ctx.Done() // the client's deadline ends the call
		return nil, ctx.Err()
	}
	_, hasDeadline := ctx.Deadline()
	return &testgrpc.SimpleResponse{
		Username: first(md, "x-user"),
		Hostname: fmt.Sprint(hasDeadline),
		Payload:  req.GetPayload(),
	}, nil
}

func (testServer) StreamingOutputCall(req *testgrpc.StreamingOutputCallRequest, stream grpc.ServerStreamingServer[testgrpc.StreamingOutputCallResponse]) error {
	if err := stream.SendHeader(metadata.Pairs("x-early", "yes")); err != nil {
		return err
	}
	for _, p := range req.GetResponseParameters() {
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: &testgrpc.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
			return err
		}
	}
	stream.SetTrailer(metadata.Pairs("x-count", fmt.Sprint(len(req.GetResponseParameters()))))
	if s := req.GetResponseStatus(); s != nil {
		return status.Error(codes.Code(s.Code), s.Message)
	}
	return nil
}

func (testServer) StreamingInputCall(stream grpc.ClientStreamingServer[testgrpc.StreamingInputCallRequest, testgrpc.StreamingInputCallResponse]) error {
	total := 0
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(&testgrpc.StreamingInputCallResponse{AggregatedPayloadSize: int32(total)})
		}
		if err != nil {
			return err
		}
		total += len(req.GetPayload().GetBody())
	}
}

func (testServer) FullDuplexCall(stream grpc.BidiStreamingServer[testgrpc.StreamingOutputCallRequest, testgrpc.StreamingOutputCallResponse]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	if err := stream.SendHeader(metadata.Pairs("x-header", "h-"+first(md, "x-user"))); err != nil {
		return err
	}
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(&testgrpc.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
}

func first(md metadata.MD, k string) string {
	if vs := md.Get(k); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// newServer serves h over h2c and HTTP/1.1 on 127.0.0.1.
func newServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

var protocols = []rpc.Protocol{rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb, rpc.ProtocolConnect}

// TestRegistrarAndClientConn runs the generated client over ClientConn
// against the generated service mounted on a Registrar, on every protocol.
func TestRegistrarAndClientConn(t *testing.T) {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, testServer{})
	srv, hc := newServer(t, reg)
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			conn := grpccompat.NewClientConn(hc, srv.URL, grpccompat.WithClientOptions(rpc.WithProtocol(p)))
			checkTestService(t, testgrpc.NewTestServiceClient(conn))
		})
	}
}

// TestGRPCGoClientToRegistrar: grpc-go's own client against a Registrar.
func TestGRPCGoClientToRegistrar(t *testing.T) {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, testServer{})
	srv, _ := newServer(t, reg)
	cc, err := grpc.NewClient(strings.TrimPrefix(srv.URL, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	checkTestService(t, testgrpc.NewTestServiceClient(cc))
}

// TestClientConnToGRPCServer: ClientConn against grpc-go's own server.
func TestClientConnToGRPCServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(gs, testServer{})
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	conn := grpccompat.NewClientConn(&http.Client{Transport: tr}, "http://"+lis.Addr().String())
	checkTestService(t, testgrpc.NewTestServiceClient(conn))
}

func checkTestService(t *testing.T, client testgrpc.TestServiceClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // generous: a bound, not a timing assumption
	defer cancel()

	// Unary: metadata both ways, binary values, deadline, peer.
	octx := metadata.AppendToOutgoingContext(ctx, "x-user", "alice", "x-raw-bin", "\x00\x01\xff")
	var header, trailer metadata.MD
	res, err := client.UnaryCall(octx, &testgrpc.SimpleRequest{Payload: &testgrpc.Payload{Body: []byte("hi")}}, grpc.Header(&header), grpc.Trailer(&trailer))
	if err != nil {
		t.Fatal(err)
	}
	if res.GetUsername() != "alice" || string(res.GetPayload().GetBody()) != "hi" || res.GetHostname() != "true" {
		t.Fatalf("response %v", res)
	}
	if first(header, "x-header") != "h-alice" || first(header, "x-raw-bin") != "\x00\x01\xff" || first(trailer, "x-trailer") != "t" {
		t.Fatalf("header %v, trailer %v", header, trailer)
	}
	if _, err := client.EmptyCall(ctx, &testgrpc.Empty{}); err != nil {
		t.Fatal(err)
	}

	// Status with details.
	_, err = client.UnaryCall(ctx, &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.FailedPrecondition), Message: "no \n way ✓"}}, grpc.Trailer(&trailer))
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.FailedPrecondition || st.Message() != "no \n way ✓" {
		t.Fatalf("error %v", err)
	}
	if d := st.Details(); len(d) != 1 || !proto.Equal(d[0].(proto.Message), wrapperspb.String("detail")) {
		t.Fatalf("details %v", st.Details())
	}
	if first(trailer, "x-trailer") != "t" {
		t.Errorf("trailer with an error: %v", trailer)
	}

	// Deadline.
	dctx, dcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = client.UnaryCall(dctx, &testgrpc.SimpleRequest{ResponseSize: -1})
	dcancel()
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("deadline: %v", err)
	}

	// Unimplemented.
	if _, err := client.UnimplementedCall(ctx, &testgrpc.Empty{}); status.Code(err) != codes.Unimplemented {
		t.Fatalf("unimplemented: %v", err)
	}

	// Server streaming, with early headers and trailers.
	ss, err := client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{
		ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}, {Size: 2}, {Size: 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := ss.Header()
	if err != nil || first(h, "x-early") != "yes" {
		t.Fatalf("stream header %v, %v", h, err)
	}
	var sizes []int
	for {
		msg, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(msg.GetPayload().GetBody()))
	}
	if fmt.Sprint(sizes) != "[1 2 3]" || first(ss.Trailer(), "x-count") != "3" {
		t.Fatalf("sizes %v, trailer %v", sizes, ss.Trailer())
	}
	ss, err = client.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{
		ResponseParameters: []*testgrpc.ResponseParameters{{Size: 1}},
		ResponseStatus:     &testgrpc.EchoStatus{Code: int32(codes.Aborted), Message: "stop"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Recv(); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Recv(); status.Code(err) != codes.Aborted {
		t.Fatalf("stream status: %v", err)
	}

	// Client streaming.
	cs, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 4} {
		if err := cs.Send(&testgrpc.StreamingInputCallRequest{Payload: &testgrpc.Payload{Body: make([]byte, n)}}); err != nil {
			t.Fatal(err)
		}
	}
	agg, err := cs.CloseAndRecv()
	if err != nil || agg.GetAggregatedPayloadSize() != 7 {
		t.Fatalf("client stream: %v, %v", agg, err)
	}

	// Bidi, in lock step, headers before the first message.
	bs, err := client.FullDuplexCall(metadata.AppendToOutgoingContext(ctx, "x-user", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	h, err = bs.Header()
	if err != nil || first(h, "x-header") != "h-bob" {
		t.Fatalf("bidi header %v, %v", h, err)
	}
	for _, body := range []string{"a", "b"} {
		if err := bs.Send(&testgrpc.StreamingOutputCallRequest{Payload: &testgrpc.Payload{Body: []byte(body)}}); err != nil {
			t.Fatal(err)
		}
		msg, err := bs.Recv()
		if err != nil || string(msg.GetPayload().GetBody()) != body {
			t.Fatalf("bidi: %v, %v", msg, err)
		}
	}
	if err := bs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Recv(); err != io.EOF {
		t.Fatalf("bidi end: %v", err)
	}
}

// TestInterceptors: grpc-go interceptors on both sides, and polyconnect
// handler interceptors around them.
func TestInterceptors(t *testing.T) {
	var log []string
	var mu = make(chan struct{}, 1)
	record := func(s string) { mu <- struct{}{}; log = append(log, s); <-mu }
	unary := func(name string) grpc.UnaryServerInterceptor {
		return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			record(name + ":" + info.FullMethod)
			return handler(ctx, req)
		}
	}
	stream := func(ctx any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		record("stream:" + info.FullMethod)
		return handler(ctx, ss)
	}
	var polyUnary atomic.Int64
	poly := rpc.HandlerUnaryInterceptorFunc(func(spec rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
		return func(ctx context.Context, req any) (any, error) {
			if _, ok := req.(*testgrpc.SimpleRequest); ok {
				polyUnary.Add(1)
			}
			return next(ctx, req)
		}
	})
	reg := grpccompat.NewRegistrar(
		grpccompat.WithUnaryServerInterceptors(unary("u1"), unary("u2")),
		grpccompat.WithStreamServerInterceptors(stream),
		grpccompat.WithHandlerOptions(rpc.WithHandlerInterceptors(poly)),
	)
	testgrpc.RegisterTestServiceServer(reg, testServer{})
	srv, hc := newServer(t, reg)
	var clientLog []string
	conn := grpccompat.NewClientConn(hc, srv.URL,
		grpccompat.WithUnaryClientInterceptors(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			clientLog = append(clientLog, "unary:"+method)
			return invoker(metadata.AppendToOutgoingContext(ctx, "x-user", "intercepted"), method, req, reply, cc, opts...)
		}),
		grpccompat.WithStreamClientInterceptors(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			clientLog = append(clientLog, "stream:"+method)
			return streamer(ctx, desc, cc, method, opts...)
		}),
	)
	client := testgrpc.NewTestServiceClient(conn)
	res, err := client.UnaryCall(context.Background(), &testgrpc.SimpleRequest{})
	if err != nil || res.GetUsername() != "intercepted" {
		t.Fatalf("%v, %v", res, err)
	}
	cs, err := client.StreamingInputCall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CloseAndRecv(); err != nil {
		t.Fatal(err)
	}
	want := "u1:/grpc.testing.TestService/UnaryCall u2:/grpc.testing.TestService/UnaryCall stream:/grpc.testing.TestService/StreamingInputCall"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("server interceptors: %s", got)
	}
	if got := strings.Join(clientLog, " "); got != "unary:/grpc.testing.TestService/UnaryCall stream:/grpc.testing.TestService/StreamingInputCall" {
		t.Errorf("client interceptors: %s", got)
	}
	if polyUnary.Load() != 1 {
		t.Errorf("polyconnect unary interceptor saw %d requests", polyUnary.Load())
	}
}

func TestRegisterServicePanics(t *testing.T) {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, testServer{})
	mustPanic(t, "twice", func() { testgrpc.RegisterTestServiceServer(reg, testServer{}) })
	mustPanic(t, "wrong type", func() { reg.RegisterService(&testgrpc.TestService_ServiceDesc, struct{}{}) })
	info := reg.GetServiceInfo()["grpc.testing.TestService"]
	if len(info.Methods) != 8 {
		t.Errorf("service info: %+v", info)
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

// TestBadInput: a request that does not decode is INVALID_ARGUMENT, an
// unknown method is 404.
func TestBadInput(t *testing.T) {
	reg := grpccompat.NewRegistrar()
	testgrpc.RegisterTestServiceServer(reg, testServer{})
	srv, hc := newServer(t, reg)
	resp, err := hc.Post(srv.URL+"/grpc.testing.TestService/UnaryCall", "application/proto", strings.NewReader("\xff\xff\xff"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Connect reports an undecodable request as INVALID_ARGUMENT (HTTP 400).
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid_argument"`) {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	resp, err = hc.Post(srv.URL+"/grpc.testing.TestService/Nope", "application/proto", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown method: %d", resp.StatusCode)
	}
}
