package otelrpc

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

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

// addressAttributes returns addrKey (and portKey, when addr has a port)
// for addr, "host", "host:port" or "[v6]:port"; n is how many of the two
// are set.
func addressAttributes(addr string, addrKey, portKey attribute.Key) (kvs [2]attribute.KeyValue, n int) {
	if addr == "" {
		return kvs, 0
	}
	host, port := splitHostPort(addr)
	kvs[0] = addrKey.String(host)
	if port < 0 {
		return kvs, 1
	}
	kvs[1] = portKey.Int(port)
	return kvs, 2
}

// splitHostPort splits addr into host and port, -1 for no port. Unlike
// net.SplitHostPort it does not allocate, even for an address without a
// port, which is the common case of a client's base URL.
func splitHostPort(addr string) (host string, port int) {
	if addr != "" && addr[0] == '[' {
		end := strings.IndexByte(addr, ']')
		switch {
		case end < 0:
			return addr, -1
		case end+1 == len(addr):
			return addr[1:end], -1
		case addr[end+1] != ':':
			return addr, -1
		}
		return addr[1:end], parsePort(addr[end+2:])
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 || strings.IndexByte(addr[:i], ':') >= 0 {
		// No port, or an IPv6 address without brackets.
		return addr, -1
	}
	if port = parsePort(addr[i+1:]); port < 0 {
		return addr, -1
	}
	return addr[:i], port
}

// parsePort returns the port number in s, or -1.
func parsePort(s string) int {
	if s == "" || len(s) > 5 {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	if n > 65535 {
		return -1
	}
	return n
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
