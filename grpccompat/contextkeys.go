package grpccompat

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// grpc-go finds a handler's incoming metadata, its ServerTransportStream
// and its peer under unexported context keys. A keyProbe learns each key by
// watching which one grpc-go's own accessor asks for, so that a call's
// context can answer those lookups lazily, without a context.WithValue
// (and the metadata conversion) per call.
type keyProbe struct {
	context.Context
	key any
}

// Value records the key it is asked for and finds nothing.
func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

func probeKey(lookup func(context.Context)) any {
	p := &keyProbe{Context: context.Background()}
	lookup(p)
	return p.key
}

var (
	incomingMDKey = probeKey(func(ctx context.Context) { metadata.FromIncomingContext(ctx) })
	streamKey     = probeKey(func(ctx context.Context) { grpc.ServerTransportStreamFromContext(ctx) })
	peerKey       = probeKey(func(ctx context.Context) { peer.FromContext(ctx) })
)

func init() {
	if incomingMDKey == nil || streamKey == nil || peerKey == nil {
		panic("grpccompat: this version of grpc-go keeps its context keys differently; please report it")
	}
}
