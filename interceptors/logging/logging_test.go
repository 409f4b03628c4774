package logging_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/interceptors/auth"
	"polyconnect.dev/interceptors/internal/testsvc"
	"polyconnect.dev/interceptors/logging"
	"polyconnect.dev/interceptors/retry"
	"polyconnect.dev/protocol/rpc"
)

// record is a logged record with its attributes resolved.
type record struct {
	level slog.Level
	msg   string
	attrs map[string]slog.Value
}

func (r record) str(key string) string { return r.attrs[key].String() }

func (r record) int(key string) int64 {
	v, ok := r.attrs[key]
	if !ok {
		return -1
	}
	return v.Int64()
}

// capture is a slog.Handler that keeps the records at or above its level.
type capture struct {
	level slog.Level
	mu    sync.Mutex
	recs  []record
}

func (c *capture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *capture) WithGroup(string) slog.Handler                { return c }

func (c *capture) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message, attrs: map[string]slog.Value{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.Resolve()
		return true
	})
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	return nil
}

// calls returns the "rpc call" records of one side and forgets all records.
func (c *capture) take(side string) []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record
	for _, r := range c.recs {
		if r.msg == "rpc call" && r.str("rpc.side") == side {
			out = append(out, r)
		}
	}
	return out
}

func (c *capture) reset() {
	c.mu.Lock()
	c.recs = nil
	c.mu.Unlock()
}

func (c *capture) all() []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]record(nil), c.recs...)
}

func size(s string) int64 { return int64(proto.Size(wrapperspb.String(s))) }

// Each call gives one record on each side with what happened, for every
// kind and protocol.
func TestRecords(t *testing.T) {
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var client, server capture
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(logging.New(slog.New(&server))))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown,
				rpc.WithClientInterceptors(logging.New(slog.New(&client))))
			for _, k := range testsvc.Kinds {
				ins := []string{"a", "bb"}
				if k.StreamType == rpc.StreamTypeUnary || k.StreamType == rpc.StreamTypeServer {
					ins = ins[:1]
				}
				out, err := k.Call(context.Background(), clients, ins...)
				if err != nil {
					t.Fatal(err)
				}
				var reqBytes, resBytes int64
				for _, in := range ins {
					reqBytes += size(in)
				}
				for _, o := range out {
					resBytes += size(o)
				}
				for side, c := range map[string]*capture{"client": &client, "server": &server} {
					recs := c.take(side)
					c.reset()
					if len(recs) != 1 {
						t.Fatalf("%s %s: %d records, want 1", k.Name, side, len(recs))
					}
					r := recs[0]
					want := map[string]string{
						"rpc.procedure": testsvc.Spec(k.StreamType, 0).Procedure,
						"rpc.protocol":  v.Protocol.String(),
						"rpc.code":      "ok",
						"rpc.kind":      map[rpc.StreamType]string{rpc.StreamTypeUnary: "unary", rpc.StreamTypeClient: "client_stream", rpc.StreamTypeServer: "server_stream", rpc.StreamTypeBidi: "bidi_stream"}[k.StreamType],
					}
					for key, w := range want {
						if got := r.str(key); got != w {
							t.Errorf("%s %s: %s = %q, want %q", k.Name, side, key, got, w)
						}
					}
					if r.level != slog.LevelInfo || r.str("rpc.peer") == "" || r.attrs["rpc.duration"].Duration() <= 0 {
						t.Errorf("%s %s: level %v peer %q duration %v", k.Name, side, r.level, r.str("rpc.peer"), r.attrs["rpc.duration"])
					}
					if _, ok := r.attrs["rpc.attempt"]; ok {
						t.Errorf("%s %s: an attempt number without a retry", k.Name, side)
					}
					if _, ok := r.attrs["rpc.request"]; ok {
						t.Errorf("%s %s: a payload without WithPayloads", k.Name, side)
					}
					gotCounts := [4]int64{r.int("rpc.request.messages"), r.int("rpc.response.messages"), r.int("rpc.request.bytes"), r.int("rpc.response.bytes")}
					if wantCounts := [4]int64{int64(len(ins)), int64(len(out)), reqBytes, resBytes}; gotCounts != wantCounts {
						t.Errorf("%s %s: messages and bytes %v, want %v", k.Name, side, gotCounts, wantCounts)
					}
					// Uncompressed proto: the wire carries the encoding as it is.
					if gotWire := [2]int64{r.int("rpc.request.wire_bytes"), r.int("rpc.response.wire_bytes")}; gotWire != [2]int64{reqBytes, resBytes} {
						t.Errorf("%s %s: wire bytes %v, want %v (uncompressed)", k.Name, side, gotWire, [2]int64{reqBytes, resBytes})
					}
				}
			}
		})
	}
}

// The level follows the code; the error's text is in the record.
func TestLevels(t *testing.T) {
	codes := map[string]rpc.Code{"missing": rpc.CodeNotFound, "broken": rpc.CodeInternal}
	h := testsvc.Handlers{Handle: func(_ context.Context, in string) (string, error) {
		if code, ok := codes[in]; ok {
			return "", rpc.NewError(code, in)
		}
		return in, nil
	}}
	for _, k := range testsvc.Kinds {
		var client, server capture
		custom := logging.WithLevels(func(code rpc.Code) slog.Level {
			if code == rpc.CodeNotFound {
				return slog.LevelDebug
			}
			return logging.DefaultLevel(code)
		})
		server.level = slog.LevelDebug
		mux := testsvc.NewMux(h, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(logging.New(slog.New(&server), custom)))
		_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown, rpc.WithClientInterceptors(logging.New(slog.New(&client))))
		for _, in := range []string{"missing", "broken"} {
			if _, err := k.Call(context.Background(), clients, in); rpc.CodeOf(err) != codes[in] {
				t.Fatalf("%s %s: %v", k.Name, in, err)
			}
		}
		want := map[string][]slog.Level{"client": {slog.LevelWarn, slog.LevelError}, "server": {slog.LevelDebug, slog.LevelError}}
		for side, c := range map[string]*capture{"client": &client, "server": &server} {
			recs := c.take(side)
			if len(recs) != 2 {
				t.Fatalf("%s %s: %d records", k.Name, side, len(recs))
			}
			for j, r := range recs {
				in := []string{"missing", "broken"}[j]
				if r.level != want[side][j] || r.str("rpc.code") != codes[in].String() || !strings.Contains(r.str("error"), in) {
					t.Errorf("%s %s %s: level %v code %q error %q", k.Name, side, in, r.level, r.str("rpc.code"), r.str("error"))
				}
			}
		}
	}
}

// A logger that drops everything the codes map to costs the call nothing
// more; one that keeps only errors sees only failures.
func TestEnabled(t *testing.T) {
	quiet := &capture{level: slog.LevelError + 1}
	errorsOnly := &capture{level: slog.LevelError}
	mux := testsvc.NewMux(testsvc.Handlers{Handle: func(_ context.Context, in string) (string, error) {
		if in == "fail" {
			return "", rpc.NewError(rpc.CodeInternal, "fail")
		}
		return in, nil
	}}, rpc.IdempotencyUnknown, rpc.WithHandlerInterceptors(logging.New(slog.New(quiet)), logging.New(slog.New(errorsOnly))))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
	for _, k := range testsvc.Kinds {
		_, _ = k.Call(context.Background(), clients, "ok")
		_, _ = k.Call(context.Background(), clients, "fail")
	}
	if n := len(quiet.all()); n != 0 {
		t.Errorf("%d records at levels the logger drops", n)
	}
	if recs := errorsOnly.take("server"); len(recs) != 4 {
		t.Errorf("%d error records, want 4 (one failure per kind)", len(recs))
	}
}

// Behind a retry interceptor, each attempt is a record with its number, on
// both sides.
func TestAttempts(t *testing.T) {
	var client, server capture
	var mu sync.Mutex
	failed := false
	h := testsvc.Handlers{Handle: func(_ context.Context, in string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if !failed {
			failed = true
			return "", rpc.NewError(rpc.CodeUnavailable, "again")
		}
		return in, nil
	}}
	mux := testsvc.NewMux(h, rpc.IdempotencyIdempotent, rpc.WithHandlerInterceptors(logging.New(slog.New(&server))))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[2], rpc.IdempotencyIdempotent,
		rpc.WithClientInterceptors(retry.New(retry.WithBackoff(time.Millisecond, time.Millisecond)), logging.New(slog.New(&client))))
	if _, err := testsvc.CallUnary(context.Background(), clients, "x"); err != nil {
		t.Fatal(err)
	}
	for side, c := range map[string]*capture{"client": &client, "server": &server} {
		recs := c.take(side)
		if len(recs) != 2 || recs[0].str("rpc.code") != "unavailable" || recs[1].int("rpc.attempt") != 2 || recs[0].int("rpc.attempt") != -1 {
			t.Errorf("%s: %+v", side, recs)
		}
	}
}

// WithPayloads puts unary messages in the record and logs each stream
// message at Debug.
func TestPayloads(t *testing.T) {
	server := &capture{level: slog.LevelDebug}
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
		rpc.WithHandlerInterceptors(logging.New(slog.New(server), logging.WithPayloads(), logging.WithoutSizes())))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[1], rpc.IdempotencyUnknown)
	if _, err := testsvc.CallUnary(context.Background(), clients, "secret"); err != nil {
		t.Fatal(err)
	}
	recs := server.take("server")
	if len(recs) != 1 || recs[0].str("rpc.request") != `"secret"` || recs[0].str("rpc.response") != `"secret"` {
		t.Fatalf("unary: %+v", recs)
	}
	if _, ok := recs[0].attrs["rpc.request.bytes"]; ok {
		t.Error("sizes despite WithoutSizes")
	}
	server.reset()
	if _, err := testsvc.CallBidi(context.Background(), clients, "a", "b"); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, r := range server.all() {
		if r.msg == "rpc message" {
			if r.level != slog.LevelDebug {
				t.Errorf("message record at %v", r.level)
			}
			msgs = append(msgs, r.str("rpc.direction")+" "+r.str("rpc.message"))
		}
	}
	if got := strings.Join(msgs, "; "); got != `received "a"; sent "a"; received "b"; sent "b"` {
		t.Errorf("message records: %s", got)
	}
}

// A client stream closed before its end is logged once, as canceled.
func TestAbandonedStream(t *testing.T) {
	var client capture
	_, clients := testsvc.Start(t, testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown), testsvc.Variants[1], rpc.IdempotencyUnknown,
		rpc.WithClientInterceptors(logging.New(slog.New(&client))))
	st, err := clients.Bidi.CallBidiStream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(wrapperspb.String("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Receive(); err != nil {
		t.Fatal(err)
	}
	_ = st.CloseReceive()
	recs := client.take("client")
	if len(recs) != 1 || recs[0].str("rpc.code") != "canceled" || recs[0].int("rpc.response.messages") != 1 {
		t.Fatalf("%+v", recs)
	}
}

// A call that an interceptor after the logger refuses before reading the
// request (auth here) is logged with the refusal's code, no message read,
// for every kind and protocol; so is a client stream refused as it opens.
func TestRefusedCalls(t *testing.T) {
	deny := auth.NewServer(func(context.Context, *auth.Request) (any, error) {
		return nil, rpc.NewError(rpc.CodePermissionDenied, "not you")
	})
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var server capture
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(logging.New(slog.New(&server)), deny))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown)
			for _, k := range testsvc.Kinds {
				if _, err := k.Call(context.Background(), clients, "x"); rpc.CodeOf(err) != rpc.CodePermissionDenied {
					t.Fatalf("%s: %v", k.Name, err)
				}
				recs := server.take("server")
				server.reset()
				if len(recs) != 1 {
					t.Fatalf("%s: %d records, want 1", k.Name, len(recs))
				}
				r := recs[0]
				if r.str("rpc.code") != "permission_denied" || r.int("rpc.request.messages") != 0 || r.level != slog.LevelWarn ||
					r.str("rpc.kind") != k.StreamType.String() {
					t.Errorf("%s: %v", k.Name, r.attrs)
				}
			}
		})
	}

	var client capture
	refuse := rpc.ClientStreamInterceptorFunc(func(rpc.Spec, rpc.ClientStreamFunc) rpc.ClientStreamFunc {
		return func(context.Context) (rpc.StreamingClientConn, error) {
			return nil, rpc.NewError(rpc.CodeResourceExhausted, "slow down")
		}
	})
	_, clients := testsvc.Start(t, testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown), testsvc.Variants[1], rpc.IdempotencyUnknown,
		rpc.WithClientInterceptors(logging.New(slog.New(&client)), refuse))
	if _, err := clients.Bidi.CallBidiStream(context.Background()); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
		t.Fatal(err)
	}
	if recs := client.take("client"); len(recs) != 1 || recs[0].str("rpc.code") != "resource_exhausted" || recs[0].str("rpc.kind") != "bidi_stream" {
		t.Errorf("refused client stream: %+v", recs)
	}
}

// With gzip both ways, the wire byte counts are the compressed sizes: the
// same on both sides of the call, and smaller than the protobuf sizes of
// compressible messages.
func TestWireBytesCompressed(t *testing.T) {
	big := strings.Repeat("a compressible sentence. ", 200) // 5,000 bytes, well above the 1 KiB a handler compresses from
	for _, v := range testsvc.Variants {
		t.Run(v.Name, func(t *testing.T) {
			var client, server capture
			mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
				rpc.WithHandlerInterceptors(logging.New(slog.New(&server))))
			_, clients := testsvc.Start(t, mux, v, rpc.IdempotencyUnknown,
				rpc.WithSendCompression("gzip"),
				rpc.WithClientInterceptors(logging.New(slog.New(&client))))
			for _, k := range testsvc.Kinds {
				ins := []string{big, big + big}
				if k.StreamType == rpc.StreamTypeUnary || k.StreamType == rpc.StreamTypeServer {
					ins = ins[:1]
				}
				if _, err := k.Call(context.Background(), clients, ins...); err != nil {
					t.Fatal(err)
				}
				c, s := client.take("client"), server.take("server")
				client.reset()
				server.reset()
				if len(c) != 1 || len(s) != 1 {
					t.Fatalf("%s: %d client and %d server records, want 1 each", k.Name, len(c), len(s))
				}
				for _, dir := range []string{"request", "response"} {
					wire, bytes := "rpc."+dir+".wire_bytes", "rpc."+dir+".bytes"
					cw, sw := c[0].int(wire), s[0].int(wire)
					if cw != sw {
						t.Errorf("%s: %s %d on the client, %d on the server", k.Name, wire, cw, sw)
					}
					if cw <= 0 || cw*4 > c[0].int(bytes) {
						t.Errorf("%s: %s %d for %s %d: not compressed", k.Name, wire, cw, bytes, c[0].int(bytes))
					}
				}
			}
		})
	}
}

// WithoutSizes leaves out the wire byte counts too.
func TestWithoutSizesLeavesOutWireBytes(t *testing.T) {
	var server capture
	mux := testsvc.NewMux(testsvc.Handlers{}, rpc.IdempotencyUnknown,
		rpc.WithHandlerInterceptors(logging.New(slog.New(&server), logging.WithoutSizes())))
	_, clients := testsvc.Start(t, mux, testsvc.Variants[0], rpc.IdempotencyUnknown)
	if _, err := testsvc.CallUnary(context.Background(), clients, "hello"); err != nil {
		t.Fatal(err)
	}
	recs := server.take("server")
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	for _, key := range []string{"rpc.request.bytes", "rpc.response.bytes", "rpc.request.wire_bytes", "rpc.response.wire_bytes"} {
		if _, ok := recs[0].attrs[key]; ok {
			t.Errorf("%s present with WithoutSizes", key)
		}
	}
}
