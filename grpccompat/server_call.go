package grpccompat

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/raw"
)

// serverCall is the context a grpc-go handler runs with, one per call: the
// polyconnect handler's context, answering grpc-go's lookups of the
// incoming metadata, the ServerTransportStream and the peer from the call's
// rpc.CallInfo, built when first asked for. It is also the call's
// grpc.ServerTransportStream and, for streaming methods, its
// grpc.ServerStream.
type serverCall struct {
	context.Context
	info   *rpc.CallInfo
	call   raw.Call
	method string
	unary  bool

	mdOnce   sync.Once
	md       metadata.MD
	peerOnce sync.Once
	peer     *peer.Peer

	mu         sync.Mutex // guards headerSent and the response header and trailer maps
	headerSent bool
}

// Value implements context.Context.
func (c *serverCall) Value(key any) any {
	switch key {
	case incomingMDKey:
		c.mdOnce.Do(c.buildMD)
		return c.md
	case streamKey:
		return grpc.ServerTransportStream(c)
	case peerKey:
		c.peerOnce.Do(c.buildPeer)
		return c.peer
	}
	return c.Context.Value(key)
}

func (c *serverCall) buildMD() {
	md := toMetadata(c.info.RequestHeader())
	if host := c.info.Host(); host != "" {
		md[":authority"] = []string{host}
	}
	c.md = md
}

func (c *serverCall) buildPeer() {
	p := c.info.Peer()
	c.peer = &peer.Peer{Addr: peerAddr(p.Addr)}
	if p.TLS != nil {
		c.peer.AuthInfo = credentials.TLSInfo{
			State:          *p.TLS,
			CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity},
		}
	}
}

// peerAddr returns addr as a net.Addr: a *net.TCPAddr for "ip:port", else
// one that reports the string as it is.
func peerAddr(addr string) net.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return stringAddr(addr)
}

// stringAddr is a peer address that is not "ip:port" (an in-memory
// transport's, say), reported as it is.
type stringAddr string

// Network implements net.Addr.
func (a stringAddr) Network() string { return "unknown" }

// String implements net.Addr.
func (a stringAddr) String() string { return string(a) }

// Method implements grpc.ServerTransportStream.
func (c *serverCall) Method() string { return c.method }

var errHeaderSent = status.Error(codes.Internal, "grpccompat: the response headers have already been sent")

// SetHeader implements grpc.ServerTransportStream and grpc.ServerStream.
func (c *serverCall) SetHeader(md metadata.MD) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.headerSent {
		return errHeaderSent
	}
	addMetadata(c.info.ResponseHeader(), md)
	return nil
}

// SendHeader implements grpc.ServerTransportStream and grpc.ServerStream:
// a streaming call sends its headers now; a unary call sends them with its
// response, and takes no more after this.
func (c *serverCall) SendHeader(md metadata.MD) error {
	c.mu.Lock()
	if c.headerSent {
		c.mu.Unlock()
		return errHeaderSent
	}
	addMetadata(c.info.ResponseHeader(), md)
	c.headerSent = true
	c.mu.Unlock()
	if c.unary {
		return nil
	}
	return toStatusError(rpc.SendHeader(c.Context))
}

// SetTrailer implements grpc.ServerTransportStream.
func (c *serverCall) SetTrailer(md metadata.MD) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	addMetadata(c.info.ResponseTrailer(), md)
	return nil
}

// serverStream is the grpc.ServerStream of a streaming call. Its own
// SetTrailer has no result, unlike the ServerTransportStream's.
type serverStream struct{ *serverCall }

// SetTrailer implements grpc.ServerStream.
func (s serverStream) SetTrailer(md metadata.MD) { _ = s.serverCall.SetTrailer(md) }

// Context implements grpc.ServerStream.
func (s serverStream) Context() context.Context { return s.serverCall }

// SendMsg implements grpc.ServerStream.
func (s serverStream) SendMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpccompat: SendMsg of %T, which is not a proto.Message", m)
	}
	s.mu.Lock()
	s.headerSent = true
	s.mu.Unlock()
	return toStatusError(s.call.Send(msg))
}

// RecvMsg implements grpc.ServerStream. It returns io.EOF once the client
// has sent its last message.
func (s serverStream) RecvMsg(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return status.Errorf(codes.Internal, "grpccompat: RecvMsg into %T, which is not a proto.Message", m)
	}
	err := s.call.Receive(msg)
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return io.EOF // generated code compares with ==
	}
	return toStatusError(err)
}
