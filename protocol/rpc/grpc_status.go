package rpc

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"polyconnect.dev/protocol/rpc/internal/grpcwire"
)

// grpcStatusValues holds the header value of every standard code, so that
// writing a status does not allocate. Index 0 is OK.
var grpcStatusValues = func() (v [maxCode + 1][]string) {
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

func grpcStatusValue(c Code) []string {
	if c <= maxCode {
		return grpcStatusValues[c]
	}
	return []string{strconv.FormatUint(uint64(c), 10)}
}

// grpcStatusHeaders returns the grpc-status, grpc-message and
// grpc-status-details-bin values for e; e == nil is OK. Empty results are
// omitted by the callers.
func grpcStatusHeaders(e *Error) (status []string, message, details string) {
	if e == nil {
		return grpcStatusValues[0], "", ""
	}
	code := e.code
	if code == 0 {
		// A zero code would read as success on the wire.
		code = CodeUnknown
	}
	status = grpcStatusValue(code)
	message = grpcwire.PercentEncode(e.msg)
	if len(e.details) > 0 {
		details = base64.RawStdEncoding.EncodeToString(grpcwire.AppendStatusProto(nil, uint32(code), e.msg, e.details))
	}
	return status, message, details
}

// setGRPCStatus writes the status of e (nil: OK) into h, as trailers (with
// http.TrailerPrefix) or as headers of a trailers-only response.
func setGRPCStatus(h http.Header, e *Error, trailer bool) {
	status, message, details := grpcStatusHeaders(e)
	grpcwire.SetStatus(h, status, message, details, trailer)
}

// grpcStatusFromHeader reads the status carried by h (trailers, or the
// headers of a trailers-only response). It reports found=false when h has no
// grpc-status; err is nil for an OK status. A status that cannot be parsed
// is an error with CodeInternal.
func grpcStatusFromHeader(h http.Header) (err *Error, found bool) {
	return grpcStatusError(grpcwire.StatusFieldsOf(h))
}

// grpcStatusError turns status entries into the status they carry, as
// grpcStatusFromHeader does.
func grpcStatusError(f grpcwire.StatusFields) (err *Error, found bool) {
	if f.StatusCount == 0 {
		return nil, false
	}
	n, ok := f.Code()
	if !ok {
		return errorf(CodeInternal, "protocol error: invalid grpc-status "+strconv.Quote(f.Status)), true
	}
	if n == 0 {
		return nil, true
	}
	code := Code(n)
	if code > maxCode {
		code = CodeUnknown
	}
	e := &Error{code: code, wire: true}
	if f.HasMessage {
		e.msg = grpcwire.PercentDecode(f.Message)
	}
	if f.Details != "" {
		// A broken details entry does not hide the status it accompanies.
		if b, derr := decodeBase64(f.Details); derr == nil {
			if _, msg, details, perr := grpcwire.ParseStatusProto(b); perr == nil {
				e.details = details
				if !f.HasMessage {
					e.msg = msg
				}
			}
		}
	}
	return e, true
}
