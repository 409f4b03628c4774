package logging

import (
	"context"
	"log/slog"

	"polyconnect.dev/protocol/rpc"
)

// Event is a kind of record the interceptor writes; see WithEvents.
type Event uint8

const (
	// StartCall: a record "rpc call started" when a call starts (on a
	// handler, before its request is read), at the level of a success, with
	// rpc.side, rpc.procedure, rpc.kind, rpc.protocol, rpc.peer and
	// rpc.attempt.
	StartCall Event = 1 << iota
	// FinishCall: the record "rpc call" when a call ends (the default).
	FinishCall
	// PayloadReceived: the messages this side receives (a handler's
	// requests, a client's responses), as WithPayloads describes.
	PayloadReceived
	// PayloadSent: the messages this side sends.
	PayloadSent
)

// WithEvents chooses the records the interceptor writes, replacing the
// default, FinishCall alone. With PayloadReceived or PayloadSent, a unary
// call's messages of that direction go into its FinishCall record
// (rpc.request, rpc.response), or, without FinishCall, into "rpc message"
// records of their own at level Debug, as a stream's do. Messages may hold
// secrets and personal data: log them for debugging.
func WithEvents(events ...Event) Option {
	return optionFunc(func(i *Interceptor) {
		i.events = 0
		for _, e := range events {
			i.events |= e
		}
	})
}

// WithFieldsFromContext adds the attributes fn returns to every record of
// a call: fn runs with the call's context, so it finds what the
// interceptors before this one and the caller put there (a request ID, an
// identity, the trace ID). It runs once per record and must be safe for
// concurrent use; nil attributes add nothing.
func WithFieldsFromContext(fn func(ctx context.Context) []slog.Attr) Option {
	return optionFunc(func(i *Interceptor) { i.fields = fn })
}

func (i *Interceptor) logs(e Event) bool { return i.events&e != 0 }

// logStart writes the StartCall record of a call on side, if asked for.
func (i *Interceptor) logStart(ctx context.Context, side string, info *rpc.CallInfo) {
	if !i.logs(StartCall) || !i.logger.Enabled(ctx, i.levels[0]) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("rpc.side", side),
		slog.String("rpc.procedure", info.Procedure()),
		slog.String("rpc.kind", kindName(info.Spec().StreamType)),
		slog.String("rpc.protocol", info.Protocol().String()),
		slog.String("rpc.peer", info.Peer().Addr),
	)
	attrs = appendAttempt(attrs, info)
	attrs = i.appendFields(ctx, attrs)
	i.logger.LogAttrs(ctx, i.levels[0], "rpc call started", attrs...)
}

// appendFields appends the attributes of WithFieldsFromContext.
func (i *Interceptor) appendFields(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if i.fields == nil {
		return attrs
	}
	return append(attrs, i.fields(ctx)...)
}
