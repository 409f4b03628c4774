package otelrpc

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"polyconnect.dev/protocol/rpc"
)

// statusOK is rpc.response.status_code for a call that succeeded.
const statusOK = "OK"

// grpcStatusNames are the gRPC status codes by number, spelled as the gRPC
// specification (statuscodes.md) does, which is what the semantic
// conventions record as rpc.response.status_code for gRPC.
var grpcStatusNames = [...]string{
	statusOK,
	"CANCELLED",
	"UNKNOWN",
	"INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED",
	"NOT_FOUND",
	"ALREADY_EXISTS",
	"PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION",
	"ABORTED",
	"OUT_OF_RANGE",
	"UNIMPLEMENTED",
	"INTERNAL",
	"UNAVAILABLE",
	"DATA_LOSS",
	"UNAUTHENTICATED",
}

// connectCanceled is Connect's name for code 1 in upper case: Connect spells
// it "canceled" where gRPC spells it "CANCELLED". Every other code has the
// same name in both.
const connectCanceled = "CANCELED"

// statusName returns the rpc.response.status_code of a call that ended with
// code (0 for success) over protocol p: the code's name in upper case,
// Connect's spelling for Connect and gRPC's for gRPC and gRPC-Web.
func statusName(code rpc.Code, p rpc.Protocol) string {
	if code == rpc.CodeCanceled && p == rpc.ProtocolConnect {
		return connectCanceled
	}
	if int(code) < len(grpcStatusNames) {
		return grpcStatusNames[code]
	}
	return strconv.FormatUint(uint64(code), 10)
}

// systemName returns the rpc.system.name attribute of protocol p:
// "connectrpc" for Connect, "grpc" for gRPC and gRPC-Web.
func systemName(p rpc.Protocol) attribute.KeyValue {
	if p == rpc.ProtocolConnect {
		return semconv.RPCSystemNameConnectrpc
	}
	return semconv.RPCSystemNameGRPC
}

// methodName returns rpc.method, which is also the span name: the procedure
// without its leading slash, "package.Service/Method".
func methodName(procedure string) string {
	if len(procedure) > 0 && procedure[0] == '/' {
		return procedure[1:]
	}
	return procedure
}

// serverErrorCode reports whether a handler that returned code failed in
// the sense of the conventions: for gRPC (and Connect) servers only UNKNOWN,
// DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS are
// errors; the other codes describe the caller's request, not a server fault.
func serverErrorCode(code rpc.Code) bool {
	switch code {
	case rpc.CodeUnknown, rpc.CodeDeadlineExceeded, rpc.CodeUnimplemented,
		rpc.CodeInternal, rpc.CodeUnavailable, rpc.CodeDataLoss:
		return true
	}
	return false
}

// outcome is how a call ended, as the conventions record it.
type outcome struct {
	code    rpc.Code // 0: success
	message string   // the error's message, for the span status
}

// outcomeOf returns the outcome of a call that returned err.
func outcomeOf(err error) outcome {
	if err == nil {
		return outcome{}
	}
	if e, ok := err.(*rpc.Error); ok {
		return outcome{code: e.Code(), message: e.Message()}
	}
	var e *rpc.Error
	if errors.As(err, &e) {
		return outcome{code: e.Code(), message: e.Message()}
	}
	return outcome{code: rpc.CodeOf(err), message: err.Error()}
}

// appendStatus appends rpc.response.status_code and, if the call failed for
// this side, error.type (the same name), and returns the span status. A
// client counts every code as a failure; a server only those of
// serverErrorCode.
func appendStatus(attrs []attribute.KeyValue, o outcome, p rpc.Protocol, server bool) ([]attribute.KeyValue, codes.Code, string) {
	name := statusName(o.code, p)
	attrs = append(attrs, semconv.RPCResponseStatusCodeKey.String(name))
	if o.code == 0 || (server && !serverErrorCode(o.code)) {
		return attrs, codes.Unset, ""
	}
	return append(attrs, semconv.ErrorTypeKey.String(name)), codes.Error, o.message
}

// appendAddress appends addrKey (and portKey, when addr has a numeric
// port) for addr, "host", "host:port" or "[v6]:port".
func appendAddress(attrs []attribute.KeyValue, addr string, addrKey, portKey attribute.Key) []attribute.KeyValue {
	if addr == "" {
		return attrs
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return append(attrs, addrKey.String(addr))
	}
	attrs = append(attrs, addrKey.String(host))
	if n, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, portKey.Int(n))
	}
	return attrs
}

// appendMetadata appends an attribute for each of keys present in any of
// headers.
func appendMetadata(attrs []attribute.KeyValue, keys []metadataKey, headers ...http.Header) []attribute.KeyValue {
	for _, k := range keys {
		var values []string
		for _, h := range headers {
			if vs := h[k.header]; len(vs) > 0 {
				values = append(values, vs...)
			}
		}
		if len(values) > 0 {
			attrs = append(attrs, k.attr.StringSlice(values))
		}
	}
	return attrs
}
