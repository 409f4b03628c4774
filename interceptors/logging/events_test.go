package logging_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/protocol/rpc"
)

// messagesOf lists a capture's records by message, with the direction of
// "rpc message" records.
func messagesOf(c *capture) string {
	var out []string
	for _, r := range c.all() {
		m := r.msg
		if m == "rpc message" {
			m += " " + r.str("rpc.direction") + " " + r.str("rpc.message")
		}
		out = append(out, m)
	}
	return strings.Join(out, "; ")
}

// WithEvents chooses the records, on both sides, for unary calls and
// streams: a start record, the finish record, the payloads of one
// direction or both (in the finish record of a unary call when there is
// one, in records of their own otherwise).
func TestEvents(t *testing.T) {
	cases := []struct {
		name                 string
		events               []logging.Event
		serverUnary, server  string // handler records: unary call, bidi call
		clientUnary, clientB string // client records
	}{
		{
			name:        "start and finish",
			events:      []logging.Event{logging.StartCall, logging.FinishCall},
			serverUnary: "rpc call started; rpc call", server: "rpc call started; rpc call",
			clientUnary: "rpc call started; rpc call", clientB: "rpc call started; rpc call",
		},
		{
			name:        "start only",
			events:      []logging.Event{logging.StartCall},
			serverUnary: "rpc call started", server: "rpc call started",
			clientUnary: "rpc call started", clientB: "rpc call started",
		},
		{
			name:        "received payloads only",
			events:      []logging.Event{logging.PayloadReceived},
			serverUnary: `rpc message received "x"`, server: `rpc message received "x"; rpc message received "y"`,
			clientUnary: `rpc message received "x"`, clientB: `rpc message received "x"; rpc message received "y"`,
		},
		{
			name:        "sent payloads in the finish record",
			events:      []logging.Event{logging.FinishCall, logging.PayloadSent},
			serverUnary: "rpc call", server: `rpc message sent "x"; rpc message sent "y"; rpc call`,
			clientUnary: "rpc call", clientB: `rpc message sent "x"; rpc message sent "y"; rpc call`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			server := &capture{level: slog.LevelDebug}
			client := &capture{level: slog.LevelDebug}
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(logging.New(slog.New(server), logging.WithEvents(tc.events...))))
			_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown,
				rpc.WithClientInterceptors(logging.New(slog.New(client), logging.WithEvents(tc.events...))))
			if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
				t.Fatal(err)
			}
			if got := messagesOf(server); got != tc.serverUnary {
				t.Errorf("server, unary: %s, want %s", got, tc.serverUnary)
			}
			if got := messagesOf(client); got != tc.clientUnary {
				t.Errorf("client, unary: %s, want %s", got, tc.clientUnary)
			}
			for _, c := range []*capture{client, server} {
				for _, r := range c.all() {
					if r.msg != "rpc call" {
						continue
					}
					_, hasReq := r.attrs["rpc.request"]
					_, hasRes := r.attrs["rpc.response"]
					side := r.str("rpc.side")
					// What this side sent: the request on a client, the
					// response on a handler.
					sentKey := map[string]bool{"client": hasReq, "server": hasRes}[side]
					receivedKey := map[string]bool{"client": hasRes, "server": hasReq}[side]
					if sentKey != (len(tc.events) > 1 && tc.events[1] == logging.PayloadSent) || receivedKey {
						t.Errorf("%s finish record: request %v, response %v", side, hasReq, hasRes)
					}
				}
			}
			server.reset()
			client.reset()
			if _, err := testsvc.CallBidi(context.Background(), clients, "x", "y"); err != nil {
				t.Fatal(err)
			}
			if got := messagesOf(server); got != tc.server {
				t.Errorf("server, bidi: %s, want %s", got, tc.server)
			}
			if got := messagesOf(client); got != tc.clientB {
				t.Errorf("client, bidi: %s, want %s", got, tc.clientB)
			}
		})
	}
}

type requestIDKey struct{}

// WithFieldsFromContext adds attributes from the call's context to every
// record: the start, the finish and the message records.
func TestFieldsFromContext(t *testing.T) {
	server := &capture{level: slog.LevelDebug}
	fields := logging.WithFieldsFromContext(func(ctx context.Context) []slog.Attr {
		if id, ok := ctx.Value(requestIDKey{}).(string); ok {
			return []slog.Attr{slog.String("request_id", id)}
		}
		return nil
	})
	// An interceptor before logging puts the request ID on the handler's
	// context, as a middleware would.
	tag := rpc.HandlerCallInterceptorFunc(func(_ rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
		return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
			info, _ := rpc.HandlerCallInfo(ctx)
			return next(context.WithValue(ctx, requestIDKey{}, info.RequestHeader().Get("X-Request-Id")), conn)
		}
	})
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
		rpc.WithHandlerInterceptors(tag, logging.New(slog.New(server), fields,
			logging.WithEvents(logging.StartCall, logging.FinishCall, logging.PayloadReceived))))
	client := &capture{}
	_, clients := testsvc.Start(t, mux, testsvc.Variants[0], rpc.IdempotencyUnknown,
		rpc.WithClientInterceptors(logging.New(slog.New(client), fields)))
	ctx, info := rpc.NewClientContext(context.WithValue(context.Background(), requestIDKey{}, "req-1"))
	info.RequestHeader().Set("X-Request-Id", "req-1")
	if _, err := testsvc.CallBidi(ctx, clients, "a"); err != nil {
		t.Fatal(err)
	}
	for side, c := range map[string]*capture{"client": client, "server": server} {
		recs := c.all()
		if side == "server" && len(recs) != 3 {
			t.Errorf("server: %d records, want start, message and finish", len(recs))
		}
		for _, r := range recs {
			if r.str("request_id") != "req-1" {
				t.Errorf("%s %q record: request_id %q", side, r.msg, r.str("request_id"))
			}
		}
	}
}
