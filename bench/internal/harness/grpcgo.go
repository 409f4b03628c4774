package harness

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	benchv1 "polyconnect.dev/bench/gen/bench/v1"
)

// grpcGoService implements the bench service with grpc-go's generated
// interface.
type grpcGoService struct {
	benchv1.UnimplementedBenchServiceServer
}

func (grpcGoService) Unary(_ context.Context, req *benchv1.Payload) (*benchv1.Payload, error) {
	return req, nil
}

func (grpcGoService) ServerStream(req *benchv1.StreamRequest, stream grpc.ServerStreamingServer[benchv1.Payload]) error {
	msg := &benchv1.Payload{Payload: make([]byte, req.Size)}
	for range req.Count {
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func (grpcGoService) ClientStream(stream grpc.ClientStreamingServer[benchv1.Payload, benchv1.Payload]) error {
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return stream.SendAndClose(&benchv1.Payload{})
		}
		if err != nil {
			return err
		}
	}
}

func (grpcGoService) Bidi(stream grpc.BidiStreamingServer[benchv1.Payload, benchv1.Payload]) error {
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// NewGRPCGoServer returns a grpc-go server with the bench service
// registered and the given options.
func NewGRPCGoServer(opts ...grpc.ServerOption) *grpc.Server {
	s := grpc.NewServer(opts...)
	RegisterGRPCGoService(s)
	return s
}

// RegisterGRPCGoService registers the grpc-go implementation of the bench
// service on r: a grpc.Server, or a grpccompat.Registrar (the same code on
// polyconnect).
func RegisterGRPCGoService(r grpc.ServiceRegistrar) {
	benchv1.RegisterBenchServiceServer(r, grpcGoService{})
}

// startGRPCGoServer serves with grpc-go's own HTTP/2 transport, as grpc-go
// is normally deployed: h2c is its insecure mode, h2 its TLS mode.
func startGRPCGoServer(transport string) (*Server, error) {
	var opts []grpc.ServerOption
	scheme := "http://"
	if transport == TransportH2 {
		cert, err := serverCertificate()
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpc.Creds(credentials.NewServerTLSFromCert(&cert)))
		scheme = "https://"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := NewGRPCGoServer(opts...)
	go func() { _ = s.Serve(ln) }()
	return &Server{URL: scheme + ln.Addr().String(), close: s.Stop}, nil
}

type grpcGoClient struct {
	conn *grpc.ClientConn
	c    benchv1.BenchServiceClient
}

func newGRPCGoClient(transport, baseURL string, skipVerify bool) (*grpcGoClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if transport == TransportH2 {
		conf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: skipVerify}
		if !skipVerify {
			p, err := pki()
			if err != nil {
				return nil, err
			}
			conf.RootCAs = p.CertPool()
		}
		creds = credentials.NewTLS(conf)
	}
	conn, err := grpc.NewClient("passthrough:///"+u.Host, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	return &grpcGoClient{conn: conn, c: benchv1.NewBenchServiceClient(conn)}, nil
}

func (c *grpcGoClient) Unary(ctx context.Context, req *benchv1.Payload) error {
	res, err := c.c.Unary(ctx, req)
	if err != nil {
		return err
	}
	if len(res.Payload) != len(req.Payload) {
		return errSize("unary", len(res.Payload), len(req.Payload))
	}
	return nil
}

func (c *grpcGoClient) ServerStream(ctx context.Context, count, size int) error {
	stream, err := c.c.ServerStream(ctx, &benchv1.StreamRequest{Count: int32(count), Size: int32(size)})
	if err != nil {
		return err
	}
	n := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(msg.Payload) != size {
			return errSize("server stream", len(msg.Payload), size)
		}
		n++
	}
	if n != count {
		return errCount("server stream", n, count)
	}
	return nil
}

func (c *grpcGoClient) ClientStream(ctx context.Context, count int, msg *benchv1.Payload) error {
	stream, err := c.c.ClientStream(ctx)
	if err != nil {
		return err
	}
	for range count {
		if err := stream.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				break // the status comes from CloseAndRecv
			}
			return err
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

func (c *grpcGoClient) Bidi(ctx context.Context, count int, msg *benchv1.Payload) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.Bidi(ctx)
	if err != nil {
		return err
	}
	for range count {
		if err := stream.Send(msg); err != nil {
			if errors.Is(err, io.EOF) {
				_, err = stream.Recv()
			}
			return err
		}
		res, err := stream.Recv()
		if err != nil {
			return err
		}
		if len(res.Payload) != len(msg.Payload) {
			return errSize("bidi", len(res.Payload), len(msg.Payload))
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("bidi: unexpected extra message")
		}
		return err
	}
	return nil
}

func (c *grpcGoClient) Close() { _ = c.conn.Close() }
