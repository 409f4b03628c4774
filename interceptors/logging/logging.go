// Package logging writes one log/slog record per call, on clients and
// handlers, for unary calls and streams.
//
//	logger := logging.New(slog.Default())
//	rpc.WithHandlerInterceptors(logger) // on a handler
//	rpc.WithClientInterceptors(logger)  // on a client
//
// A record's message is "rpc call" and its attributes are:
//
//	rpc.side            "client" or "server"
//	rpc.procedure       "/greet.v1.GreetService/Greet"
//	rpc.kind            "unary", "client_stream", "server_stream" or "bidi_stream"
//	rpc.protocol        "connect", "grpc" or "grpcweb"
//	rpc.peer            the peer's address (server: the client's; client: the server's host)
//	rpc.code            "ok" or the error's code, such as "not_found"
//	rpc.duration        from the call reaching the interceptor to its end
//	rpc.attempt         the attempt number of a retry (Polyconnect-Attempt), when there is one
//	rpc.request.messages, rpc.response.messages   messages sent and received
//	rpc.request.bytes,    rpc.response.bytes      their protobuf-encoded size
//	rpc.request.wire_bytes, rpc.response.wire_bytes   their size as sent: encoded, then compressed
//	error               the error's text, on failure
//	rpc.request, rpc.response   the messages, only with WithPayloads (unary calls)
//
// The byte counts are the size of each message's binary protobuf encoding
// (proto.Size), summed: the payload as it travels with the proto codec
// before compression, without the protocols' framing (5 bytes a message on
// streams and gRPC) and headers. With the JSON codec the JSON on the wire
// differs in size. Messages that are not proto messages are counted but not
// sized. The wire byte counts are the sizes rpc records on the CallInfo
// (rpc.CallInfo.LastSentSize, LastReceivedSize): each message as its codec
// encoded it, after compression when it was compressed, again without
// framing and headers. WithoutSizes leaves out both pairs and skips the
// measurement, which walks each message once.
//
// WithEvents chooses the records: a start record ("rpc call started") as
// well as, or instead of, the finish record, and the payloads of either
// direction. WithFieldsFromContext adds attributes taken from the call's
// context (a request ID, a tenant) to every record.
//
// The level of a record depends on the code ([DefaultLevel]: Info for
// success, Warn for errors the caller or the network can cause, Error for
// the server's own failures); WithLevels changes it. When the logger would
// drop records at every level the codes map to (it is not enabled for the
// highest of them), the interceptor costs one Enabled call.
//
// On a handler the interceptor joins the call chain, which runs before the
// request is read: a call that an interceptor after it refuses there (auth,
// rate limits) is logged with the refusal's code, and the duration covers
// reading and decoding the request. On a client, put the interceptor after a
// retry interceptor to log each attempt, or before it to log each call
// once.
package logging

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/protocol/rpc"
)

// maxCode is the highest rpc.Code.
const maxCode = rpc.CodeUnauthenticated

// attemptHeader is the request header in which the retry interceptor sends
// the attempt number (retry.AttemptHeader, which a test keeps equal).
const attemptHeader = "Polyconnect-Attempt"

// The values of rpc.side.
const (
	sideClient = "client"
	sideServer = "server"
)

// DefaultLevel is the default level of a call's record by its outcome: Info
// for success (code 0); Error for UNKNOWN, UNIMPLEMENTED, INTERNAL and
// DATA_LOSS, which point at a fault in the server; Warn for every other
// code.
func DefaultLevel(code rpc.Code) slog.Level {
	switch code {
	case 0:
		return slog.LevelInfo
	case rpc.CodeUnknown, rpc.CodeUnimplemented, rpc.CodeInternal, rpc.CodeDataLoss:
		return slog.LevelError
	}
	return slog.LevelWarn
}

// Option configures the interceptor.
type Option interface{ apply(*Interceptor) }

type optionFunc func(*Interceptor)

func (f optionFunc) apply(i *Interceptor) { f(i) }

// WithLevels sets the level of a call's record by its code (0 for
// success). The function is called once per code, when New builds the
// interceptor.
func WithLevels(fn func(code rpc.Code) slog.Level) Option {
	return optionFunc(func(i *Interceptor) { i.levelOf = fn })
}

// WithPayloads adds the messages themselves, as protobuf JSON: a unary
// call's record carries rpc.request and rpc.response, and a stream logs each
// message in a record of its own at level Debug ("rpc message", with
// rpc.direction "sent" or "received"). Messages may hold secrets and
// personal data: use it for debugging.
// It adds the events PayloadReceived and PayloadSent to those chosen.
func WithPayloads() Option {
	return optionFunc(func(i *Interceptor) { i.events |= PayloadReceived | PayloadSent })
}

// WithoutSizes leaves out rpc.request.bytes, rpc.response.bytes,
// rpc.request.wire_bytes and rpc.response.wire_bytes.
func WithoutSizes() Option { return optionFunc(func(i *Interceptor) { i.noSizes = true }) }

// New returns an interceptor that logs every call to logger (slog.Default()
// if nil). One Interceptor may serve any number of clients and handlers.
func New(logger *slog.Logger, opts ...Option) *Interceptor {
	i := &Interceptor{logger: logger, levelOf: DefaultLevel, events: FinishCall}
	if i.logger == nil {
		i.logger = slog.Default()
	}
	for _, o := range opts {
		o.apply(i)
	}
	for code := rpc.Code(0); code <= maxCode; code++ {
		i.levels[code] = i.levelOf(code)
		if code == 0 || i.levels[code] > i.topLevel {
			i.topLevel = i.levels[code]
		}
	}
	return i
}

// Interceptor logs calls. It is an rpc.ClientInterceptor and an
// rpc.HandlerInterceptor: give it to WithClientInterceptors,
// WithHandlerInterceptors or both. It is safe for concurrent use.
type Interceptor struct {
	logger   *slog.Logger
	levelOf  func(rpc.Code) slog.Level
	levels   [maxCode + 1]slog.Level
	topLevel slog.Level
	events   Event
	fields   func(context.Context) []slog.Attr
	noSizes  bool
}

func (i *Interceptor) level(err error) slog.Level {
	code := rpc.CodeOf(err)
	if code > maxCode {
		code = rpc.CodeUnknown
	}
	return i.levels[code]
}

// counts are the messages of a call and their sizes: protobuf-encoded, and
// as sent (wire).
type counts struct {
	reqMsgs, resMsgs   int64
	reqBytes, resBytes int64
	reqWire, resWire   int64
}

func kindName(st rpc.StreamType) string {
	switch st {
	case rpc.StreamTypeClient:
		return "client_stream"
	case rpc.StreamTypeServer:
		return "server_stream"
	case rpc.StreamTypeBidi:
		return "bidi_stream"
	}
	return "unary"
}

// wire returns the wire size of a message as rpc recorded it, or 0 without
// sizes.
func (i *Interceptor) wire(s rpc.MessageSize) int64 {
	if i.noSizes {
		return 0
	}
	return int64(s.Compressed)
}

func (i *Interceptor) size(msg any) int64 {
	if i.noSizes {
		return 0
	}
	if m, ok := msg.(proto.Message); ok {
		return int64(proto.Size(m))
	}
	return 0
}

// log writes the record of a call on side that ended with err.
func (i *Interceptor) log(ctx context.Context, side string, info *rpc.CallInfo, start time.Time, err error, c counts) {
	if level := i.level(err); i.logs(FinishCall) && i.logger.Enabled(ctx, level) {
		i.emit(ctx, level, side, info, start, err, c)
	}
}

// emit writes a record at level.
func (i *Interceptor) emit(ctx context.Context, level slog.Level, side string, info *rpc.CallInfo, start time.Time, err error, c counts, extra ...slog.Attr) {
	code := "ok"
	if err != nil {
		code = rpc.CodeOf(err).String()
	}
	attrs := make([]slog.Attr, 0, 20)
	attrs = append(attrs,
		slog.String("rpc.side", side),
		slog.String("rpc.procedure", info.Procedure()),
		slog.String("rpc.kind", kindName(info.Spec().StreamType)),
		slog.String("rpc.protocol", info.Protocol().String()),
		slog.String("rpc.peer", info.Peer().Addr),
		slog.String("rpc.code", code),
		slog.Duration("rpc.duration", time.Since(start)),
	)
	attrs = appendAttempt(attrs, info)
	attrs = append(attrs, slog.Int64("rpc.request.messages", c.reqMsgs), slog.Int64("rpc.response.messages", c.resMsgs))
	if !i.noSizes {
		attrs = append(attrs,
			slog.Int64("rpc.request.bytes", c.reqBytes), slog.Int64("rpc.response.bytes", c.resBytes),
			slog.Int64("rpc.request.wire_bytes", c.reqWire), slog.Int64("rpc.response.wire_bytes", c.resWire))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	attrs = append(attrs, extra...)
	attrs = i.appendFields(ctx, attrs)
	i.logger.LogAttrs(ctx, level, "rpc call", attrs...)
}

// payload is a message logged lazily as protobuf JSON.
type payload struct{ msg any }

func (p payload) LogValue() slog.Value {
	if m, ok := p.msg.(proto.Message); ok {
		return slog.StringValue(protojson.MarshalOptions{}.Format(m))
	}
	return slog.AnyValue(p.msg)
}

// logMessage logs one message in a record of its own: a stream's, or a
// unary call's without a FinishCall record.
func (i *Interceptor) logMessage(ctx context.Context, info *rpc.CallInfo, direction string, msg any) {
	if !i.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("rpc.procedure", info.Procedure()),
		slog.String("rpc.direction", direction),
		slog.Any("rpc.message", payload{msg}),
	}
	i.logger.LogAttrs(ctx, slog.LevelDebug, "rpc message", i.appendFields(ctx, attrs)...)
}

// appendAttempt appends rpc.attempt, the attempt number the retry
// interceptor sent, if any.
func appendAttempt(attrs []slog.Attr, info *rpc.CallInfo) []slog.Attr {
	if a := info.RequestHeader().Get(attemptHeader); a != "" {
		if n, err := strconv.Atoi(a); err == nil {
			attrs = append(attrs, slog.Int("rpc.attempt", n))
		}
	}
	return attrs
}
