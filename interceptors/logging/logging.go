// Package logging writes one log/slog record per call, on clients and
// handlers, for unary calls and streams.
//
//	rpc.WithInterceptors(logging.New(slog.Default()))
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
//	error               the error's text, on failure
//	rpc.request, rpc.response   the messages, only with WithPayloads (unary calls)
//
// The byte counts are the size of each message's binary protobuf encoding
// (proto.Size), summed: the payload as it travels with the proto codec
// before compression, without the protocols' framing (5 bytes a message on
// streams and gRPC) and headers. With the JSON codec the JSON on the wire
// differs in size. Messages that are not proto messages are counted but not
// sized. WithoutSizes skips the measurement, which walks each message once.
//
// The level of a record depends on the code ([DefaultLevel]: Info for
// success, Warn for errors the caller or the network can cause, Error for
// the server's own failures); WithLevels changes it. When the logger would
// drop records at every level the codes map to (it is not enabled for the
// highest of them), the interceptor costs one Enabled call.
//
// On a handler, a unary call's duration starts after the request has been
// read and decoded (rpc runs handler interceptors then). On a client, put
// the interceptor after a retry interceptor to log each attempt, or before
// it to log each call once.
package logging

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"polyconnect.dev/interceptors/internal/callx"
	"polyconnect.dev/protocol/rpc"
)

// maxCode is the highest rpc.Code.
const maxCode = rpc.CodeUnauthenticated

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
type Option interface{ apply(*interceptor) }

type optionFunc func(*interceptor)

func (f optionFunc) apply(i *interceptor) { f(i) }

// WithLevels sets the level of a call's record by its code (0 for
// success). The function is called once per code, when New builds the
// interceptor.
func WithLevels(fn func(code rpc.Code) slog.Level) Option {
	return optionFunc(func(i *interceptor) { i.levelOf = fn })
}

// WithPayloads adds the messages themselves, as protobuf JSON: a unary
// call's record carries rpc.request and rpc.response, and a stream logs each
// message in a record of its own at level Debug ("rpc message", with
// rpc.direction "sent" or "received"). Messages may hold secrets and
// personal data: use it for debugging.
func WithPayloads() Option { return optionFunc(func(i *interceptor) { i.payloads = true }) }

// WithoutSizes leaves out rpc.request.bytes and rpc.response.bytes.
func WithoutSizes() Option { return optionFunc(func(i *interceptor) { i.noSizes = true }) }

// New returns an interceptor that logs every call to logger (slog.Default()
// if nil).
func New(logger *slog.Logger, opts ...Option) rpc.Interceptor {
	i := &interceptor{logger: logger, levelOf: DefaultLevel}
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

type interceptor struct {
	logger   *slog.Logger
	levelOf  func(rpc.Code) slog.Level
	levels   [maxCode + 1]slog.Level
	topLevel slog.Level
	payloads bool
	noSizes  bool
}

func (i *interceptor) level(err error) slog.Level {
	code := rpc.CodeOf(err)
	if code > maxCode {
		code = rpc.CodeUnknown
	}
	return i.levels[code]
}

// counts are the messages of a call and their sizes.
type counts struct {
	reqMsgs, resMsgs   int64
	reqBytes, resBytes int64
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

func (i *interceptor) size(msg any) int64 {
	if i.noSizes {
		return 0
	}
	if m, ok := msg.(proto.Message); ok {
		return int64(proto.Size(m))
	}
	return 0
}

// log writes the record of a call that ended with err.
func (i *interceptor) log(ctx context.Context, info *rpc.CallInfo, start time.Time, err error, c counts) {
	if level := i.level(err); i.logger.Enabled(ctx, level) {
		i.emit(ctx, level, info, start, err, c)
	}
}

// emit writes a record at level.
func (i *interceptor) emit(ctx context.Context, level slog.Level, info *rpc.CallInfo, start time.Time, err error, c counts, extra ...slog.Attr) {
	side := "server"
	if info.IsClient() {
		side = "client"
	}
	code := "ok"
	if err != nil {
		code = rpc.CodeOf(err).String()
	}
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("rpc.side", side),
		slog.String("rpc.procedure", info.Procedure()),
		slog.String("rpc.kind", kindName(info.Spec().StreamType)),
		slog.String("rpc.protocol", info.Protocol().String()),
		slog.String("rpc.peer", info.Peer().Addr),
		slog.String("rpc.code", code),
		slog.Duration("rpc.duration", time.Since(start)),
	)
	if a := info.RequestHeader().Get(callx.AttemptHeader); a != "" {
		if n, perr := strconv.Atoi(a); perr == nil {
			attrs = append(attrs, slog.Int("rpc.attempt", n))
		}
	}
	attrs = append(attrs, slog.Int64("rpc.request.messages", c.reqMsgs), slog.Int64("rpc.response.messages", c.resMsgs))
	if !i.noSizes {
		attrs = append(attrs, slog.Int64("rpc.request.bytes", c.reqBytes), slog.Int64("rpc.response.bytes", c.resBytes))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	attrs = append(attrs, extra...)
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

func (i *interceptor) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		if !i.logger.Enabled(ctx, i.topLevel) {
			return next(ctx, req)
		}
		info, ok := rpc.CallInfoFromContext(ctx)
		if !ok {
			return next(ctx, req)
		}
		start := time.Now()
		res, err := next(ctx, req)
		level := i.level(err)
		if !i.logger.Enabled(ctx, level) {
			return res, err
		}
		c := counts{reqMsgs: 1, reqBytes: i.size(req)}
		if err == nil {
			c.resMsgs, c.resBytes = 1, i.size(res)
		}
		if i.payloads {
			extra := []slog.Attr{slog.Any("rpc.request", payload{req})}
			if err == nil {
				extra = append(extra, slog.Any("rpc.response", payload{res}))
			}
			i.emit(ctx, level, info, start, err, c, extra...)
		} else {
			i.emit(ctx, level, info, start, err, c)
		}
		return res, err
	}
}

// logMessage logs one stream message when payloads are on.
func (i *interceptor) logMessage(ctx context.Context, info *rpc.CallInfo, direction string, msg any) {
	if !i.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	i.logger.LogAttrs(ctx, slog.LevelDebug, "rpc message",
		slog.String("rpc.procedure", info.Procedure()),
		slog.String("rpc.direction", direction),
		slog.Any("rpc.message", payload{msg}))
}
