package harness

import (
	"net/http"

	"connectrpc.com/connect"

	"polyconnect.dev/bench/gen/bench/v1/benchv1connect"
	"polyconnect.dev/bench/gen/bench/v1/benchv1rpc"
	"polyconnect.dev/protocol/rpc"
)

// PolyconnectHandlerWith is PolyconnectHandler with more handler options,
// interceptors for instance.
func PolyconnectHandlerWith(opts ...rpc.HandlerOption) (string, http.Handler) {
	return benchv1rpc.NewBenchServiceHandler(polyconnectService{}, append([]rpc.HandlerOption{polyconnectNoCompression}, opts...)...)
}

// ConnectGoHandlerWith is ConnectGoHandler with more handler options,
// interceptors for instance.
func ConnectGoHandlerWith(opts ...connect.HandlerOption) (string, http.Handler) {
	return benchv1connect.NewBenchServiceHandler(connectGoService{}, append([]connect.HandlerOption{connectGoNoGzipHandler}, opts...)...)
}
