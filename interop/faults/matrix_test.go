package faults_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/transport"
)

type sv = wrapperspb.StringValue

// none stands for "this side saw no error" (the call succeeded) or, for
// the server, "no handler saw the fault" (it panicked, or never ran).
const none = "-"

// outcome is what each side of a call ended with: a code name, or none.
type outcome struct{ client, server string }

func (o outcome) String() string { return o.client + "/" + o.server }

// codeName names the code of err, or none for nil.
func codeName(err error) string {
	if err == nil {
		return none
	}
	return rpc.CodeOf(err).String()
}

// probe connects a fault's handler to the test, in the same process, so
// that a fault lands exactly where it should without waiting on time.
type probe struct {
	server  chan string   // the handler's outcome, sent once it returns
	reached chan struct{} // closed by the handler at the point where the fault is due
	proceed chan struct{} // closed by the test when the handler may go on
}

func newProbe() *probe {
	return &probe{server: make(chan string, 1), reached: make(chan struct{}), proceed: make(chan struct{})}
}

// waitBound bounds every wait for the other side of a call. It only turns
// a side that never learns of a fault into a failure instead of a hang:
// everything travels over loopback, well within it even on a loaded
// machine.
const waitBound = 20 * time.Second

// call is one case of the matrix: a fresh server of one transport serving
// the fault's handlers, and a client of the same transport speaking one
// protocol.
type call struct {
	t        *testing.T
	name     string
	protocol rpc.Protocol
	url      string
	http     transport.Client
	srv      transport.Server
	kill     func() // kills every connection of srv
	*probe
}

func client[Req, Res any](c *call, spec rpc.Spec) *rpc.Client[Req, Res] {
	return rpc.NewClient[Req, Res](c.http, c.url, spec, rpc.WithProtocol(c.protocol))
}

// serverOutcome waits for the handler to report.
func (c *call) serverOutcome() string {
	select {
	case s := <-c.server:
		return s
	case <-time.After(waitBound):
		return "(handler still running)"
	}
}

// wait waits for the handler to close ch; it reports false if the handler
// returned or did not get there.
func (c *call) wait(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	case s := <-c.server:
		c.server <- s
		return false
	case <-time.After(waitBound):
		return false
	}
}

// fault is one kind of failure, provoked the same way over every transport
// and protocol.
type fault struct {
	name string
	// mount adds the fault's handlers to mux; they report to p.
	mount func(mux *http.ServeMux, p *probe)
	// run makes the call and returns both sides' outcomes.
	run func(c *call) outcome
	// want is the outcome every transport must give, except where
	// wantOn says otherwise for a transport.
	want   outcome
	wantOn map[string]outcome
	// serverAlso is another server outcome the contract allows, when the
	// server cannot tell two causes apart (see why).
	serverAlso string
	// why explains the exceptions.
	why string
}

var (
	specServer = rpc.Spec{Procedure: "/faults.v1.Faults/Server", StreamType: rpc.StreamTypeServer}
	specClient = rpc.Spec{Procedure: "/faults.v1.Faults/Client", StreamType: rpc.StreamTypeClient}
)

var (
	canceled    = rpc.CodeCanceled.String()
	unavailable = rpc.CodeUnavailable.String()
	internal    = rpc.CodeInternal.String()
	deadline    = rpc.CodeDeadlineExceeded.String()
)

// http1Reset is the outcome where HTTP/2 and HTTP/3 reset a stream: over
// HTTP/1.1 a server cannot reset one call, it closes the connection, and
// the client sees the connection lost.
var http1Reset = map[string]outcome{transport.NameHTTP1: {client: unavailable, server: none}}

// serverStreamThen is a server-streaming method that sends one message,
// lets the test know the client has it, and then does next.
func serverStreamThen(p *probe, next func(ctx context.Context, s *rpc.ServerStream[sv]) error) http.Handler {
	return rpc.NewServerStreamHandler(specServer, func(ctx context.Context, req *sv, s *rpc.ServerStream[sv]) error {
		if err := s.Send(wrapperspb.String("first")); err != nil {
			p.server <- "first send: " + codeName(err)
			return err
		}
		<-p.proceed // the client has the first message
		return next(ctx, s)
	})
}

// receiveFirst opens the server stream and reads the first message; on
// success the test may provoke the fault.
func receiveFirst(c *call, ctx context.Context) (*rpc.ServerStreamCall[sv], string) {
	stream, err := client[sv, sv](c, specServer).CallServerStream(ctx, wrapperspb.String("go"))
	if err != nil {
		return nil, "call: " + codeName(err)
	}
	if _, err := stream.Receive(); err != nil {
		stream.Close()
		return nil, "first message: " + codeName(err)
	}
	return stream, ""
}

// sendUntilFailure sends messages until Send fails and reports its code:
// how a streaming handler learns that its call is over.
func sendUntilFailure(p *probe) func(ctx context.Context, s *rpc.ServerStream[sv]) error {
	return func(ctx context.Context, s *rpc.ServerStream[sv]) error {
		for {
			if err := s.Send(wrapperspb.String("more")); err != nil {
				p.server <- codeName(err)
				return err
			}
		}
	}
}

var faults = []fault{
	{
		name: "handler panics mid-stream",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specServer.Procedure, serverStreamThen(p, func(context.Context, *rpc.ServerStream[sv]) error {
				panic("fault: handler panics mid-stream")
			}))
		},
		run: func(c *call) outcome {
			stream, failed := receiveFirst(c, context.Background())
			if stream == nil {
				return outcome{client: failed, server: none}
			}
			defer stream.Close()
			close(c.proceed)
			_, err := stream.Receive()
			return outcome{client: codeName(err), server: none}
		},
		want:   outcome{client: internal, server: none},
		wantOn: http1Reset,
		why:    "HTTP/2 and HTTP/3 reset the stream with INTERNAL_ERROR; HTTP/1.1 can only close the connection",
	},
	{
		name: "server resets the stream (http.ErrAbortHandler)",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specServer.Procedure, serverStreamThen(p, func(context.Context, *rpc.ServerStream[sv]) error {
				panic(http.ErrAbortHandler)
			}))
		},
		run: func(c *call) outcome {
			stream, failed := receiveFirst(c, context.Background())
			if stream == nil {
				return outcome{client: failed, server: none}
			}
			defer stream.Close()
			close(c.proceed)
			_, err := stream.Receive()
			return outcome{client: codeName(err), server: none}
		},
		want:   outcome{client: internal, server: none},
		wantOn: http1Reset,
		why:    "as a panic, without the log line",
	},
	{
		name: "client cancels before the response",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
				if _, err := s.Receive(); err != nil {
					p.server <- "first message: " + codeName(err)
					return nil, err
				}
				close(p.reached)
				_, err := s.Receive()
				if err == nil {
					err = errors.New("a second message arrived")
				}
				p.server <- codeName(err)
				return nil, err
			}))
		},
		run: func(c *call) outcome {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, err := client[sv, sv](c, specClient).CallClientStream(ctx)
			if err != nil {
				return outcome{client: "call: " + codeName(err), server: none}
			}
			if err := stream.Send(wrapperspb.String("first")); err != nil {
				return outcome{client: "send: " + codeName(err), server: c.serverOutcome()}
			}
			// Cancel once the handler has the first message and waits for
			// the next, with no response sent yet.
			if !c.wait(c.reached) {
				return outcome{client: "the first message never reached the handler", server: c.serverOutcome()}
			}
			cancel()
			_, err = stream.CloseAndReceive()
			return outcome{client: codeName(err), server: c.serverOutcome()}
		},
		want: outcome{client: canceled, server: canceled},
	},
	{
		name: "client cancels during a stream",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specServer.Procedure, serverStreamThen(p, sendUntilFailure(p)))
		},
		run: func(c *call) outcome {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream, failed := receiveFirst(c, ctx)
			if stream == nil {
				return outcome{client: failed, server: c.serverOutcome()}
			}
			defer stream.Close()
			cancel()
			close(c.proceed)
			var err error
			for err == nil {
				_, err = stream.Receive()
			}
			return outcome{client: codeName(err), server: c.serverOutcome()}
		},
		want: outcome{client: canceled, server: canceled},
	},
	{
		name: "connection killed mid-call",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specServer.Procedure, serverStreamThen(p, sendUntilFailure(p)))
		},
		run: func(c *call) outcome {
			stream, failed := receiveFirst(c, context.Background())
			if stream == nil {
				return outcome{client: failed, server: c.serverOutcome()}
			}
			defer stream.Close()
			c.kill()
			close(c.proceed)
			var err error
			for err == nil {
				_, err = stream.Receive()
			}
			return outcome{client: codeName(err), server: c.serverOutcome()}
		},
		// The client may try again elsewhere (unavailable); the server's
		// caller is gone (canceled), as when a client cancels over HTTP/1.1.
		want: outcome{client: unavailable, server: canceled},
		why:  "the two sides differ by design: the client may retry (unavailable), the server's caller is gone (canceled)",
	},
	{
		name: "graceful shutdown (GOAWAY) mid-call",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specServer.Procedure, serverStreamThen(p, func(ctx context.Context, s *rpc.ServerStream[sv]) error {
				err := s.Send(wrapperspb.String("last"))
				p.server <- codeName(err)
				return err
			}))
		},
		run: func(c *call) outcome {
			stream, failed := receiveFirst(c, context.Background())
			if stream == nil {
				return outcome{client: failed, server: c.serverOutcome()}
			}
			defer stream.Close()
			shutdown := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), waitBound)
				defer cancel()
				shutdown <- c.srv.Shutdown(ctx)
			}()
			// Let the handler finish once the server no longer takes new
			// calls: the call in flight must still complete.
			if !refusesNewCalls(c) {
				close(c.proceed)
				return outcome{client: "the server kept taking new calls during Shutdown", server: c.serverOutcome()}
			}
			close(c.proceed)
			var err error
			n := 0
			for err == nil {
				_, err = stream.Receive()
				n++
			}
			if errors.Is(err, io.EOF) {
				err = nil
			}
			if err == nil && n != 2 {
				err = fmt.Errorf("%d messages after the first, want 1", n-1)
			}
			if serr := <-shutdown; serr != nil && err == nil {
				err = fmt.Errorf("Shutdown: %w", serr)
			}
			return outcome{client: codeName(err), server: c.serverOutcome()}
		},
		want: outcome{client: none, server: none},
	},
	{
		name: "deadline",
		mount: func(mux *http.ServeMux, p *probe) {
			mux.Handle(specClient.Procedure, rpc.NewClientStreamHandler(specClient, func(ctx context.Context, s *rpc.ClientStream[sv]) (*sv, error) {
				if _, err := s.Receive(); err != nil {
					p.server <- "first message: " + codeName(err)
					return nil, err
				}
				_, err := s.Receive() // the client sends nothing more
				if err == nil {
					err = errors.New("a second message arrived")
				}
				p.server <- codeName(err)
				return nil, err
			}))
		},
		run: func(c *call) outcome {
			// The deadline is what the fault is about, so time is its
			// substance here, not a guess: the call must end with it.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			stream, err := client[sv, sv](c, specClient).CallClientStream(ctx)
			if err != nil {
				return outcome{client: "call: " + codeName(err), server: none}
			}
			if err := stream.Send(wrapperspb.String("first")); err != nil {
				return outcome{client: "send: " + codeName(err), server: c.serverOutcome()}
			}
			<-ctx.Done()
			_, err = stream.CloseAndReceive()
			return outcome{client: codeName(err), server: c.serverOutcome()}
		},
		want:       outcome{client: deadline, server: deadline},
		serverAlso: canceled,
		why: "the client resets the stream (or, over HTTP/1.1, closes the connection) at its deadline, " +
			"and the server's copy of the deadline expires at about the same moment: which it learns of first " +
			"depends on the network, and a reset says only CANCEL",
	},
}

// refusesNewCalls waits until the server, shutting down, no longer takes
// new calls on new connections (it closed its listener, or refuses QUIC
// connections); it reports false if that does not happen in waitBound.
func refusesNewCalls(c *call) bool {
	deadline := time.Now().Add(waitBound)
	for time.Now().Before(deadline) {
		probe := newClient(c.t, c.name)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := rpc.NewClient[sv, sv](probe, c.url, rpc.Spec{Procedure: "/faults.v1.Faults/Probe"}).CallUnary(ctx, wrapperspb.String("x"))
		cancel()
		probe.CloseIdleConnections()
		if err != nil && rpc.CodeOf(err) == rpc.CodeUnavailable {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestFaultMatrix runs every fault over every transport and protocol and
// checks that both sides end with the code the contract gives the fault.
func TestFaultMatrix(t *testing.T) {
	table := map[string]map[string]string{} // fault → "transport/protocol" → outcome
	var mismatches []string
	for _, f := range faults {
		table[f.name] = map[string]string{}
		for _, name := range transports {
			for _, p := range protocols {
				if !valid(name, p) {
					continue
				}
				key := name + "/" + p.String()
				t.Run(f.name+"/"+key, func(t *testing.T) {
					got := runFault(t, f, name, p)
					want := f.want
					if w, ok := f.wantOn[name]; ok {
						want = w
					}
					table[f.name][key] = got.String()
					if f.serverAlso != "" && got.client == want.client && got.server == f.serverAlso {
						want.server = f.serverAlso
					}
					if got != want {
						mismatches = append(mismatches, fmt.Sprintf("%s over %s: got %v, want %v", f.name, key, got, want))
						t.Errorf("got client/server %v, want %v", got, want)
					}
				})
			}
		}
	}
	t.Logf("client/server outcomes:%s", formatTable(faultNames(faults), table))
	if len(mismatches) > 0 {
		t.Logf("%d cases differ from the contract:\n%s", len(mismatches), strings.Join(mismatches, "\n"))
	}
}

func faultNames(fs []fault) []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

// formatTable lays out outcomes by fault, transport and protocol.
func formatTable(names []string, table map[string]map[string]string) string {
	var b strings.Builder
	for _, f := range names {
		fmt.Fprintf(&b, "\n%s:\n", f)
		for _, name := range transports {
			row := ""
			for _, p := range protocols {
				if v, ok := table[f][name+"/"+p.String()]; ok {
					row += fmt.Sprintf("  %-9s %-34s", p.String()+":", v)
				}
			}
			if row != "" {
				fmt.Fprintf(&b, "  %-8s%s\n", name, row)
			}
		}
	}
	return b.String()
}

func runFault(t *testing.T, f fault, name string, p rpc.Protocol) outcome {
	pr := newProbe()
	mux := http.NewServeMux()
	f.mount(mux, pr)
	srv, kill := killable(t, name, mux)
	c := &call{t: t, name: name, protocol: p, url: srv.URL(), http: newClient(t, name), srv: srv, kill: kill, probe: pr}
	return f.run(c)
}
