// Package raw serves and calls RPC procedures whose message types rpc does
// not know at compile time: a handler or client for a protobuf method is
// built from its descriptor (SpecOf), and the caller chooses the
// proto.Message values to decode into and encode from, call by call.
//
// It is for adapters that put other stacks' generated code on polyconnect
// (package polyconnect.dev/grpccompat is built on it), and for proxies and
// gateways. Service authors need package rpc and generated code, not this.
//
// A raw handler answers every protocol a typed handler answers, with the
// same options, interceptors and limits; a raw client speaks every protocol
// and takes every rpc.ClientOption.
package raw
