package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// These tests meet our gRPC and gRPC-Web client and handler with grpc-go
// and with connect-go's gRPC and gRPC-Web modes. The services are wired by
// hand on google.protobuf.StringValue, so nothing is generated.

const (
	grpcService = "interop.v1.Echo"
	procSlow    = "/interop.v1.Echo/Slow"
)

var (
	specUnaryG  = rpc.Spec{Procedure: procUnary}
	specServerG = rpc.Spec{Procedure: procServer, StreamType: rpc.StreamTypeServer}
	specClientG = rpc.Spec{Procedure: procClient, StreamType: rpc.StreamTypeClient}
	specBidiG   = rpc.Spec{Procedure: procBidi, StreamType: rpc.StreamTypeBidi}
	specSlowG   = rpc.Spec{Procedure: procSlow}
)

// grpcJSONCodec lets grpc-go speak application/grpc+json.
type grpcJSONCodec struct{}

func (grpcJSONCodec) Name() string { return "json" }
func (grpcJSONCodec) Marshal(v any) ([]byte, error) {
	return protojson.Marshal(v.(proto.Message))
}
func (grpcJSONCodec) Unmarshal(data []byte, v any) error {
	return protojson.Unmarshal(data, v.(proto.Message))
}

func init() { encoding.RegisterCodec(grpcJSONCodec{}) }

// ourGRPCService is the echo service on our handlers, with the metadata and
// deadline behaviour the gRPC tests look for:
//   - Unary echoes; copies x-echo and x-bin-bin request headers to a header
//     and a trailer; "fail" fails with FAILED_PRECONDITION and a detail.
//   - Server sends three messages, then fails if asked to.
//   - Client joins what it receives; Bidi echoes each message.
//   - Slow answers with the remaining deadline, or waits for it to pass.
func ourGRPCService() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(procUnary, rpc.NewUnaryHandler(specUnaryG, func(ctx context.Context, req *sv) (*sv, error) {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseHeader().Set("X-Echo", info.RequestHeader().Get("X-Echo"))
		info.ResponseTrailer().Set("X-Trailer", "t-"+info.RequestHeader().Get("X-Echo"))
		if b := info.RequestHeader().Get("X-Bin-Bin"); b != "" {
			info.ResponseTrailer().Set("X-Bin-Bin", b)
		}
		if req.Value == "fail" {
			e := rpc.NewError(rpc.CodeFailedPrecondition, "told to fail: ünïcödé 100%")
			_ = e.AddDetail(wrapperspb.String("why"))
			return nil, e
		}
		return wrapperspb.String(req.Value), nil
	}))
	mux.Handle(procServer, rpc.NewServerStreamHandler(specServerG, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		info, _ := rpc.HandlerCallInfo(ctx)
		info.ResponseTrailer().Set("X-Count", "3")
		for i := range 3 {
			if err := s.Send(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
				return err
			}
		}
		if req.Value == "fail" {
			return rpc.NewError(rpc.CodeAborted, "after three")
		}
		return nil
	}))
	mux.Handle(procClient, rpc.NewClientStreamHandler(specClientG, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
		var parts []string
		for msg, err := range s.All() {
			if err != nil {
				return nil, err
			}
			parts = append(parts, msg.Value)
		}
		return wrapperspb.String(strings.Join(parts, ",")), nil
	}))
	mux.Handle(procBidi, rpc.NewBidiStreamHandler(specBidiG, func(ctx context.Context, s *rpc.BidiStream[sv, sv]) error {
		for msg, err := range s.All() {
			if err != nil {
				return err
			}
			if err := s.Send(wrapperspb.String("echo:" + msg.Value)); err != nil {
				return err
			}
		}
		return nil
	}))
	mux.Handle(procSlow, rpc.NewUnaryHandler(specSlowG, func(ctx context.Context, req *sv) (*sv, error) {
		return slow(ctx, req.Value)
	}))
	mux.HandleFunc("/", rpc.NotFound)
	return mux
}

func slow(ctx context.Context, v string) (*sv, error) {
	dl, ok := ctx.Deadline()
	if v == "wait" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if !ok {
		return wrapperspb.String("none"), nil
	}
	return wrapperspb.String(time.Until(dl).String()), nil
}

// checkSeenDeadline checks the time left that the slow handler reported
// (seen) against what the caller had left before the call (before): the
// server's deadline can be no later than the caller's, and no earlier than it
// by more than a generous bound, since a loaded 2-core machine can take a
// while to deliver the call, but not seconds.
func checkSeenDeadline(t *testing.T, seen string, before time.Duration) {
	t.Helper()
	d, err := time.ParseDuration(seen)
	if err != nil {
		t.Fatalf("deadline seen by the server: %q", seen)
	}
	if d <= 0 || d > before || d < before-5*time.Second {
		t.Fatalf("deadline seen by the server: %v left, the caller had %v", d, before)
	}
}

// grpcGoService is the same service on a grpc-go server.
func grpcGoService(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	desc := grpc.ServiceDesc{
		ServiceName: grpcService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Unary", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				req := new(sv)
				if err := dec(req); err != nil {
					return nil, err
				}
				md, _ := metadata.FromIncomingContext(ctx)
				echo := strings.Join(md.Get("x-echo"), "")
				_ = grpc.SetHeader(ctx, metadata.Pairs("x-echo", echo))
				tr := metadata.Pairs("x-trailer", "t-"+echo)
				if bin := md.Get("x-bin-bin"); len(bin) > 0 {
					tr.Append("x-bin-bin", bin...)
				}
				_ = grpc.SetTrailer(ctx, tr)
				if req.Value == "fail" {
					st, _ := status.New(codes.FailedPrecondition, "told to fail: ünïcödé 100%").WithDetails(wrapperspb.String("why"))
					return nil, st.Err()
				}
				return wrapperspb.String(req.Value), nil
			}},
			{MethodName: "Slow", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				req := new(sv)
				if err := dec(req); err != nil {
					return nil, err
				}
				res, err := slow(ctx, req.Value)
				if err != nil {
					return nil, status.FromContextError(err).Err()
				}
				return res, nil
			}},
		},
		Streams: []grpc.StreamDesc{
			{StreamName: "Server", ServerStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
				req := new(sv)
				if err := stream.RecvMsg(req); err != nil {
					return err
				}
				stream.SetTrailer(metadata.Pairs("x-count", "3"))
				for i := range 3 {
					if err := stream.SendMsg(wrapperspb.String(fmt.Sprintf("%s-%d", req.Value, i))); err != nil {
						return err
					}
				}
				if req.Value == "fail" {
					return status.Error(codes.Aborted, "after three")
				}
				return nil
			}},
			{StreamName: "Client", ClientStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
				var parts []string
				for {
					msg := new(sv)
					err := stream.RecvMsg(msg)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						return err
					}
					parts = append(parts, msg.Value)
				}
				return stream.SendMsg(wrapperspb.String(strings.Join(parts, ",")))
			}},
			{StreamName: "Bidi", ServerStreams: true, ClientStreams: true, Handler: func(_ any, stream grpc.ServerStream) error {
				for {
					msg := new(sv)
					err := stream.RecvMsg(msg)
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					if err := stream.SendMsg(wrapperspb.String("echo:" + msg.Value)); err != nil {
						return err
					}
				}
			}},
		},
	}
	s.RegisterService(&desc, struct{}{})
	return s
}

// startH2C serves h over cleartext HTTP/2 (and HTTP/1.1) on loopback.
func startH2C(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
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

// startTLS serves h over HTTP/2 with TLS.
func startTLS(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestGRPCGoClientAgainstPolyconnect drives our handler with grpc-go's
// client over h2c and TLS, with proto and JSON, with and without gzip.
func TestGRPCGoClientAgainstPolyconnect(t *testing.T) {
	h2cSrv, _ := startH2C(t, ourGRPCService())
	tlsSrv := startTLS(t, ourGRPCService())
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	targets := map[string]struct {
		addr  string
		creds credentials.TransportCredentials
	}{
		"h2c": {h2cSrv.Listener.Addr().String(), insecure.NewCredentials()},
		"h2":  {tlsSrv.Listener.Addr().String(), credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "example.com"})},
	}
	for tname, target := range targets {
		cc, err := grpc.NewClient("passthrough:///"+target.addr, grpc.WithTransportCredentials(target.creds))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cc.Close() })
		for _, codec := range []string{"proto", "json"} {
			for _, comp := range []string{"identity", "gzip"} {
				t.Run(tname+"/"+codec+"/"+comp, func(t *testing.T) {
					var opts []grpc.CallOption
					if codec == "json" {
						opts = append(opts, grpc.CallContentSubtype("json"))
					}
					if comp == "gzip" {
						opts = append(opts, grpc.UseCompressor(grpcgzip.Name))
					}
					runGRPCGoClient(t, cc, opts)
				})
			}
		}
	}
}

func runGRPCGoClient(t *testing.T, cc *grpc.ClientConn, opts []grpc.CallOption) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	with := func(extra ...grpc.CallOption) []grpc.CallOption {
		return append(append([]grpc.CallOption{}, opts...), extra...)
	}

	// Unary, with ASCII and binary metadata both ways.
	var header, trailer metadata.MD
	octx := metadata.AppendToOutgoingContext(ctx, "x-echo", "g1", "x-bin-bin", string([]byte{0, 1, 0xfe, 0xff}))
	res := new(sv)
	if err := cc.Invoke(octx, procUnary, wrapperspb.String("hello"), res, with(grpc.Header(&header), grpc.Trailer(&trailer))...); err != nil {
		t.Fatalf("unary: %v", err)
	}
	if res.Value != "hello" || strings.Join(header.Get("x-echo"), "") != "g1" || strings.Join(trailer.Get("x-trailer"), "") != "t-g1" {
		t.Fatalf("unary: %v header %v trailer %v", res, header, trailer)
	}
	if got := trailer.Get("x-bin-bin"); len(got) != 1 || got[0] != string([]byte{0, 1, 0xfe, 0xff}) {
		t.Errorf("binary trailer: %q", got)
	}
	// An error with details.
	err := cc.Invoke(ctx, procUnary, wrapperspb.String("fail"), new(sv), opts...)
	st := status.Convert(err)
	if st.Code() != codes.FailedPrecondition || st.Message() != "told to fail: ünïcödé 100%" {
		t.Fatalf("error: %v", err)
	}
	if d := st.Details(); len(d) != 1 || d[0].(*sv).GetValue() != "why" {
		t.Fatalf("details: %v", d)
	}
	// Unknown method.
	if err := cc.Invoke(ctx, "/interop.v1.Echo/Nope", wrapperspb.String("x"), new(sv), opts...); status.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: %v", err)
	}

	// Server streaming, then its failing variant.
	for _, v := range []string{"s", "fail"} {
		stream, err := cc.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, procServer, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.SendMsg(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			msg := new(sv)
			if err = stream.RecvMsg(msg); err != nil {
				break
			}
			got = append(got, msg.Value)
		}
		want := v + "-0 " + v + "-1 " + v + "-2"
		if strings.Join(got, " ") != want {
			t.Fatalf("server stream %s: %v", v, got)
		}
		wantCode := codes.OK
		if v == "fail" {
			wantCode = codes.Aborted
		}
		if !errors.Is(err, io.EOF) && status.Code(err) != wantCode || errors.Is(err, io.EOF) && wantCode != codes.OK {
			t.Fatalf("server stream %s ended with %v", v, err)
		}
		if c := stream.Trailer().Get("x-count"); len(c) != 1 || c[0] != "3" {
			t.Errorf("server stream trailer %v", stream.Trailer())
		}
	}

	// Client streaming.
	cs, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, procClient, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.SendMsg(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	res = new(sv)
	if err := cs.RecvMsg(res); err != nil || res.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}

	// Bidi, full duplex.
	bidi, err := cc.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, procBidi, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"x", "y", "z"} {
		if err := bidi.SendMsg(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
		msg := new(sv)
		if err := bidi.RecvMsg(msg); err != nil || msg.Value != "echo:"+v {
			t.Fatalf("bidi: %v %v", msg, err)
		}
	}
	_ = bidi.CloseSend()
	if err := bidi.RecvMsg(new(sv)); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}

	// Deadlines: propagated as grpc-timeout, and enforced.
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	res = new(sv)
	if err := cc.Invoke(dctx, procSlow, wrapperspb.String("deadline"), res, opts...); err != nil {
		t.Fatalf("deadline seen by the handler: %v", err)
	}
	checkSeenDeadline(t, res.Value, 10*time.Second)
	sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	if err := cc.Invoke(sctx, procSlow, wrapperspb.String("wait"), new(sv), opts...); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("slow call: %v", err)
	}
}

// TestPolyconnectGRPCClientAgainstGRPCGo drives a grpc-go server with our
// gRPC client over h2c.
func TestPolyconnectGRPCClientAgainstGRPCGo(t *testing.T) {
	s := grpcGoService()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	url := "http://" + ln.Addr().String()
	for _, codec := range []string{"proto", "json"} {
		for _, comp := range []string{"identity", "gzip"} {
			t.Run(codec+"/"+comp, func(t *testing.T) {
				opts := []rpc.ClientOption{rpc.WithProtocol(rpc.ProtocolGRPC), rpc.WithSendCompression(comp)}
				if codec == "json" {
					opts = append(opts, rpc.WithProtoJSON())
				}
				runOurGRPCClient(t, hc, url, true, true, opts)
			})
		}
	}
}

// runOurGRPCClient runs every kind of call with our client. grpcGoPeer says
// the server is grpcGoService, which also echoes x-bin-bin, fails server
// streams on request, and has the Slow method.
func runOurGRPCClient(t *testing.T, hc rpc.HTTPClient, url string, fullDuplex, grpcGoPeer bool, opts []rpc.ClientOption) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := rpc.NewClient[sv, sv](hc, url, specUnaryG, opts...)
	cctx, info := rpc.NewClientContext(ctx)
	info.RequestHeader().Set("X-Echo", "p1")
	if grpcGoPeer {
		info.RequestHeader().Set("X-Bin-Bin", "AAH+/w") // unpadded base64 of 00 01 fe ff
	}
	res, err := c.CallUnary(cctx, wrapperspb.String("hello"))
	if err != nil {
		t.Fatalf("unary: %v", err)
	}
	if res.Value != "hello" || info.ResponseHeader().Get("X-Echo") != "p1" || info.ResponseTrailer().Get("X-Trailer") != "t-p1" {
		t.Fatalf("unary: %v header %v trailer %v", res, info.ResponseHeader(), info.ResponseTrailer())
	}
	if grpcGoPeer {
		if got := info.ResponseTrailer().Get("X-Bin-Bin"); strings.TrimRight(got, "=") != "AAH+/w" {
			t.Errorf("binary trailer %q", got)
		}
	}
	_, err = c.CallUnary(ctx, wrapperspb.String("fail"))
	var rerr *rpc.Error
	if !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || !strings.HasPrefix(rerr.Message(), "told to fail") || len(rerr.Details()) != 1 {
		t.Fatalf("error: %v", err)
	}
	if grpcGoPeer && rerr.Message() != "told to fail: ünïcödé 100%" {
		t.Errorf("message %q", rerr.Message())
	}
	if d, err := rerr.Details()[0].UnmarshalNew(); err != nil || d.(*sv).Value != "why" {
		t.Fatalf("detail: %v %v", d, err)
	}
	if _, err := rpc.NewClient[sv, sv](hc, url, rpc.Spec{Procedure: "/interop.v1.Echo/Nope"}, opts...).CallUnary(ctx, wrapperspb.String("x")); rpc.CodeOf(err) != rpc.CodeUnimplemented {
		t.Errorf("unknown method: %v", err)
	}

	ss, err := rpc.NewClient[sv, sv](hc, url, specServerG, opts...).CallServerStream(ctx, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for msg, err := range ss.All() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg.Value)
	}
	if strings.Join(got, " ") != "s-0 s-1 s-2" {
		t.Fatalf("server stream: %v", got)
	}
	if grpcGoPeer {
		if ss.ResponseTrailer().Get("X-Count") != "3" {
			t.Errorf("server stream trailers %v", ss.ResponseTrailer())
		}
		ss, err = rpc.NewClient[sv, sv](hc, url, specServerG, opts...).CallServerStream(ctx, wrapperspb.String("fail"))
		if err != nil {
			t.Fatal(err)
		}
		n, last := 0, error(nil)
		for _, err := range ss.All() {
			if err != nil {
				last = err
				break
			}
			n++
		}
		if n != 3 || rpc.CodeOf(last) != rpc.CodeAborted {
			t.Fatalf("failing server stream: %d %v", n, last)
		}
	}

	cs, err := rpc.NewClient[sv, sv](hc, url, specClientG, opts...).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	res, err = cs.CloseAndReceive()
	if err != nil || res.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", res, err)
	}

	bidi, err := rpc.NewClient[sv, sv](hc, url, specBidiG, opts...).CallBidiStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{"x", "y", "z"}
	if fullDuplex {
		for _, v := range values {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi: %v %v", msg, err)
			}
		}
		_ = bidi.CloseSend()
	} else {
		for _, v := range values {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
		}
		_ = bidi.CloseSend()
		for _, v := range values {
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi half duplex: %v %v", msg, err)
			}
		}
	}
	if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("bidi end: %v", err)
	}
	_ = bidi.CloseReceive()

	if grpcGoPeer {
		slowClient := rpc.NewClient[sv, sv](hc, url, specSlowG, opts...)
		dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
		defer dcancel()
		res, err := slowClient.CallUnary(dctx, wrapperspb.String("deadline"))
		if err != nil {
			t.Fatalf("deadline seen by the server: %v", err)
		}
		checkSeenDeadline(t, res.Value, 10*time.Second)
		dl, _ := ctx.Deadline()
		before := time.Until(dl)
		if res, err = slowClient.CallUnary(ctx, wrapperspb.String("deadline")); err != nil {
			t.Fatalf("deadline seen by the server: %v", err)
		}
		checkSeenDeadline(t, res.Value, before)
		sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer scancel()
		if _, err := slowClient.CallUnary(sctx, wrapperspb.String("wait")); rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
			t.Fatalf("slow call: %v", err)
		}
	}
}

// TestConnectGoGRPCClientsAgainstPolyconnect drives our handler with
// connect-go's client in gRPC and gRPC-Web modes.
func TestConnectGoGRPCClientsAgainstPolyconnect(t *testing.T) {
	for _, tc := range transports {
		url, hc := tc.start(t, ourGRPCService())
		for _, mode := range []string{"grpc", "grpcweb"} {
			if mode == "grpc" && !tc.fullDuplex {
				continue // gRPC needs HTTP/2
			}
			for _, codec := range codecs {
				for _, comp := range compressions {
					t.Run(mode+"/"+tc.name+"/"+codec+"/"+comp, func(t *testing.T) {
						opts := []connect.ClientOption{connectGoClientCompressions()}
						if mode == "grpc" {
							opts = append(opts, connect.WithGRPC())
						} else {
							opts = append(opts, connect.WithGRPCWeb())
						}
						if codec == "json" {
							opts = append(opts, connect.WithProtoJSON())
						}
						if comp != "identity" {
							opts = append(opts, connect.WithSendCompression(comp))
						}
						runConnectGoGRPCClient(t, hc, url, tc.fullDuplex, opts)
					})
				}
			}
		}
	}
}

func runConnectGoGRPCClient(t *testing.T, hc *http.Client, url string, fullDuplex bool, opts []connect.ClientOption) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := connect.NewClient[sv, sv](hc, url+procUnary, opts...)
	req := connect.NewRequest(wrapperspb.String("hello"))
	req.Header().Set("X-Echo", "c1")
	res, err := c.CallUnary(ctx, req)
	if err != nil {
		t.Fatalf("unary: %v", err)
	}
	if res.Msg.Value != "hello" || res.Header().Get("X-Echo") != "c1" || res.Trailer().Get("X-Trailer") != "t-c1" {
		t.Fatalf("unary: %v header %v trailer %v", res.Msg, res.Header(), res.Trailer())
	}
	_, err = c.CallUnary(ctx, connect.NewRequest(wrapperspb.String("fail")))
	var cerr *connect.Error
	if !errors.As(err, &cerr) || cerr.Code() != connect.CodeFailedPrecondition || cerr.Message() != "told to fail: ünïcödé 100%" || len(cerr.Details()) != 1 {
		t.Fatalf("error: %v", err)
	}
	if v, err := cerr.Details()[0].Value(); err != nil || v.(*sv).Value != "why" {
		t.Fatalf("detail: %v %v", v, err)
	}
	if _, err := connect.NewClient[sv, sv](hc, url+"/interop.v1.Echo/Nope", opts...).CallUnary(ctx, connect.NewRequest(wrapperspb.String("x"))); connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Errorf("unknown method: %v", err)
	}
	for _, v := range []string{"s", "fail"} {
		ss, err := connect.NewClient[sv, sv](hc, url+procServer, opts...).CallServerStream(ctx, connect.NewRequest(wrapperspb.String(v)))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for ss.Receive() {
			got = append(got, ss.Msg().Value)
		}
		if strings.Join(got, " ") != v+"-0 "+v+"-1 "+v+"-2" || ss.ResponseTrailer().Get("X-Count") != "3" {
			t.Fatalf("server stream %s: %v trailers %v", v, got, ss.ResponseTrailer())
		}
		if v == "fail" && connect.CodeOf(ss.Err()) != connect.CodeAborted || v != "fail" && ss.Err() != nil {
			t.Fatalf("server stream %s: %v", v, ss.Err())
		}
		_ = ss.Close()
	}
	cs := connect.NewClient[sv, sv](hc, url+procClient, opts...).CallClientStream(ctx)
	for _, v := range []string{"a", "b", "c"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	cres, err := cs.CloseAndReceive()
	if err != nil || cres.Msg.Value != "a,b,c" {
		t.Fatalf("client stream: %v %v", cres, err)
	}
	if fullDuplex {
		bidi := connect.NewClient[sv, sv](hc, url+procBidi, opts...).CallBidiStream(ctx)
		for _, v := range []string{"x", "y", "z"} {
			if err := bidi.Send(wrapperspb.String(v)); err != nil {
				t.Fatal(err)
			}
			msg, err := bidi.Receive()
			if err != nil || msg.Value != "echo:"+v {
				t.Fatalf("bidi: %v %v", msg, err)
			}
		}
		_ = bidi.CloseRequest()
		if _, err := bidi.Receive(); !errors.Is(err, io.EOF) {
			t.Fatalf("bidi end: %v", err)
		}
		_ = bidi.CloseResponse()
	}
	// Deadlines reach our handler as grpc-timeout.
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	sres, err := connect.NewClient[sv, sv](hc, url+procSlow, opts...).CallUnary(dctx, connect.NewRequest(wrapperspb.String("deadline")))
	if err != nil {
		t.Fatalf("deadline: %v", err)
	}
	checkSeenDeadline(t, sres.Msg.Value, 10*time.Second)
	sctx, scancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer scancel()
	if _, err := connect.NewClient[sv, sv](hc, url+procSlow, opts...).CallUnary(sctx, connect.NewRequest(wrapperspb.String("wait"))); connect.CodeOf(err) != connect.CodeDeadlineExceeded {
		t.Fatalf("slow call: %v", err)
	}
}

// TestPolyconnectGRPCClientsAgainstConnectGo drives connect-go's handlers
// (which answer gRPC and gRPC-Web) with our client in both modes.
func TestPolyconnectGRPCClientsAgainstConnectGo(t *testing.T) {
	for _, tc := range transports {
		url, hc := tc.start(t, connectGoService())
		for _, mode := range []rpc.Protocol{rpc.ProtocolGRPC, rpc.ProtocolGRPCWeb} {
			if mode == rpc.ProtocolGRPC && !tc.fullDuplex {
				continue // gRPC needs HTTP/2
			}
			for _, codec := range codecs {
				for _, comp := range compressions {
					t.Run(mode.String()+"/"+tc.name+"/"+codec+"/"+comp, func(t *testing.T) {
						opts := []rpc.ClientOption{rpc.WithProtocol(mode), rpc.WithSendCompression(comp)}
						if codec == "json" {
							opts = append(opts, rpc.WithProtoJSON())
						}
						// connect-go refuses bidi over HTTP/1.1, so only the
						// full-duplex transports run it.
						runOurGRPCClientConnectGo(t, hc, url, tc.fullDuplex, opts)
					})
				}
			}
		}
	}
}

func runOurGRPCClientConnectGo(t *testing.T, hc rpc.HTTPClient, url string, fullDuplex bool, opts []rpc.ClientOption) {
	if fullDuplex {
		runOurGRPCClient(t, hc, url, true, false, opts)
		return
	}
	// Over HTTP/1.1 everything but bidi.
	ctx := context.Background()
	res, err := rpc.NewClient[sv, sv](hc, url, specUnaryG, opts...).CallUnary(ctx, wrapperspb.String("hello"))
	if err != nil || res.Value != "hello" {
		t.Fatalf("unary: %v %v", res, err)
	}
	_, err = rpc.NewClient[sv, sv](hc, url, specUnaryG, opts...).CallUnary(ctx, wrapperspb.String("fail"))
	if rerr := new(rpc.Error); !errors.As(err, &rerr) || rerr.Code() != rpc.CodeFailedPrecondition || len(rerr.Details()) != 1 {
		t.Fatalf("error: %v", err)
	}
	ss, err := rpc.NewClient[sv, sv](hc, url, specServerG, opts...).CallServerStream(ctx, wrapperspb.String("s"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, err := range ss.All() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("server stream: %d messages", n)
	}
	cs, err := rpc.NewClient[sv, sv](hc, url, specClientG, opts...).CallClientStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"a", "b"} {
		if err := cs.Send(wrapperspb.String(v)); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := cs.CloseAndReceive(); err != nil || res.Value != "a,b" {
		t.Fatalf("client stream: %v %v", res, err)
	}
}
