package nethttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"polyconnect.dev/protocol/rpc"
)

// strCodec carries plain strings, so these tests need no generated code.
type strCodec struct{}

func (strCodec) Name() string { return "x-str" }
func (strCodec) MarshalAppend(dst []byte, msg any) ([]byte, error) {
	return append(dst, *msg.(*string)...), nil
}
func (strCodec) Unmarshal(data []byte, msg any) error {
	*msg.(*string) = string(data)
	return nil
}

var (
	specWatch = rpc.Spec{Procedure: "/test.v1.T/Watch", StreamType: rpc.StreamTypeServer}
	specSink  = rpc.Spec{Procedure: "/test.v1.T/Sink", StreamType: rpc.StreamTypeClient}
)

// TestCallsEndCleanly runs streaming calls over each transport's real
// server and client and ends them the ways calls end badly: the client
// cancels mid-stream, the call's deadline passes, the handler returns
// before reading every request. Each handler sees the end, each client gets
// the right code, and TestMain's leak check finds nothing left running.
func TestCallsEndCleanly(t *testing.T) {
	for _, s := range setups(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			started, ended := make(chan struct{}, 1), make(chan error, 1)
			mux := http.NewServeMux()
			mux.Handle(specWatch.Procedure, rpc.NewServerStreamHandler(specWatch, func(ctx context.Context, req *string, st *rpc.ServerStream[string]) error {
				started <- struct{}{}
				_ = st.Send(req)
				<-ctx.Done()
				ended <- ctx.Err()
				return ctx.Err()
			}, rpc.WithCodec(strCodec{})))
			mux.Handle(specSink.Procedure, rpc.NewClientStreamHandler(specSink, func(ctx context.Context, st *rpc.ClientStream[string]) (*string, error) {
				if _, err := st.Receive(); err != nil {
					return nil, err
				}
				return nil, rpc.NewError(rpc.CodeResourceExhausted, "enough")
			}, rpc.WithCodec(strCodec{})))
			srv := startServer(t, s.server, mux)
			c := newClient(t, s.client)
			watch := rpc.NewClient[string, string](c, srv.URL(), specWatch, rpc.WithCodec(strCodec{}), rpc.WithProtocol(rpc.ProtocolGRPCWeb))
			hello := "hello"

			// Cancellation mid-stream.
			ctx, cancel := context.WithCancel(context.Background())
			stream, err := watch.CallServerStream(ctx, &hello)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stream.Receive(); err != nil {
				t.Fatal(err)
			}
			<-started
			cancel()
			if _, err := stream.Receive(); rpc.CodeOf(err) != rpc.CodeCanceled {
				t.Errorf("after cancel: %v", err)
			}
			_ = stream.Close()
			waitEnded(t, ended, "cancel")

			// Deadline expiry. Under load the deadline may pass before the
			// first message, or before the handler starts: either is fine,
			// so long as the call ends with DEADLINE_EXCEEDED and a handler
			// that started sees its end.
			ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			stream, err = watch.CallServerStream(ctx, &hello)
			if err == nil {
				for {
					if _, err = stream.Receive(); err != nil {
						break
					}
				}
				_ = stream.Close()
			}
			if rpc.CodeOf(err) != rpc.CodeDeadlineExceeded {
				t.Errorf("after the deadline: %v", err)
			}
			select {
			case <-started:
				waitEnded(t, ended, "deadline")
			default:
			}

			// Early handler return while the client still sends.
			sink := rpc.NewClient[string, string](c, srv.URL(), specSink, rpc.WithCodec(strCodec{}), rpc.WithProtocol(rpc.ProtocolConnect))
			cs, err := sink.CallClientStream(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var sendErr error
			chunk := string(make([]byte, 16<<10))
			for range 1000 { // 16 MB: more than any window or buffer holds
				if sendErr = cs.Send(&chunk); sendErr != nil {
					break
				}
			}
			if !errors.Is(sendErr, io.EOF) {
				t.Errorf("sends ended with %v, want io.EOF", sendErr)
			}
			if _, err := cs.CloseAndReceive(); rpc.CodeOf(err) != rpc.CodeResourceExhausted {
				t.Errorf("early return: %v", err)
			}
		})
	}
}

func waitEnded(t *testing.T, ended chan error, what string) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second): // a hang detector, not a speed bound
		t.Fatalf("%s: the handler did not see the call end", what)
	}
}
