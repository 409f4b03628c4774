// Package rawlink joins package rpc to package rpc/raw without an import
// cycle: rpc sets these functions in its init, and raw, which imports rpc
// and so is initialised after it, asserts them to their types. They are
// typed any because this package cannot name rpc's types.
package rawlink

// NewHandler is rpc's newRawHandler:
//
//	func(spec rpc.Spec, inner rpc.HandlerUnaryFunc,
//		fn func(context.Context, rpc.StreamingHandlerConn, rpc.HandlerUnaryFunc) error,
//		opts []rpc.HandlerOption) *rpc.Handler
var NewHandler any

// NewClient is rpc's newRawClient:
//
//	func(httpClient rpc.HTTPClient, baseURL string, spec rpc.Spec, opts []rpc.ClientOption) (
//		invoke func(ctx context.Context, req, res any) error,
//		open func(ctx context.Context) (rpc.StreamingClientConn, error))
var NewClient any
