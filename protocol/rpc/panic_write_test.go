package rpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"polyconnect.dev/protocol/rpc"
)

// blockingWriter is a ResponseWriter whose first Write blocks until a
// write deadline is set (or the test lets it go), and which records what
// happens to it after its handler returned.
type blockingWriter struct {
	header   http.Header
	writing  chan struct{} // closed when the first Write starts
	deadline chan struct{} // closed by SetWriteDeadline
	release  chan struct{} // closed by the test

	mu        sync.Mutex
	first     bool
	inFlight  int  // Writes and Flushes running
	returned  bool // ServeHTTP has returned
	lateCalls int  // Writes and Flushes started after that
}

func newBlockingWriter() *blockingWriter {
	return &blockingWriter{header: http.Header{}, writing: make(chan struct{}), deadline: make(chan struct{}), release: make(chan struct{})}
}

func (w *blockingWriter) Header() http.Header { return w.header }
func (w *blockingWriter) WriteHeader(int)     {}

func (w *blockingWriter) enter() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.inFlight++
	if w.returned {
		w.lateCalls++
	}
	first := !w.first
	w.first = true
	return first
}

func (w *blockingWriter) leave() {
	w.mu.Lock()
	w.inFlight--
	w.mu.Unlock()
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	defer w.leave()
	if w.enter() {
		close(w.writing)
		select {
		case <-w.deadline:
			return 0, errors.New("write deadline passed")
		case <-w.release:
		}
	}
	return len(p), nil
}

func (w *blockingWriter) Flush() {
	w.enter()
	w.leave()
}

func (w *blockingWriter) SetWriteDeadline(time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.deadline:
	default:
		close(w.deadline)
	}
	return nil
}

// TestPanicStopsResponseWrites checks that a streaming method that panics
// while its response is being written leaves the ResponseWriter alone
// once the panic leaves ServeHTTP: the background writer used to go on
// writing and flushing, racing net/http closing the connection (a data
// race the fault matrix found over HTTP/1.1).
func TestPanicStopsResponseWrites(t *testing.T) {
	spec := rpc.Spec{Procedure: "/test.v1.Panic/Stream", StreamType: rpc.StreamTypeServer}
	for _, ct := range []string{"application/grpc", "application/grpc-web+proto", "application/connect+proto"} {
		t.Run(ct, func(t *testing.T) {
			w := newBlockingWriter()
			h := rpc.NewServerStreamHandler(spec, func(ctx context.Context, req *wrapperspb.StringValue, s *rpc.ServerStream[wrapperspb.StringValue]) error {
				if err := s.Send(wrapperspb.String("first")); err != nil {
					return err
				}
				<-w.writing // the response is being written
				panic("fault")
			})
			msg, _ := proto.Marshal(wrapperspb.String("go"))
			body := make([]byte, 5, 5+len(msg))
			binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
			body = append(body, msg...)
			r := httptest.NewRequest(http.MethodPost, spec.Procedure, bytes.NewReader(body))
			r.Header.Set("Content-Type", ct)
			r.ProtoMajor, r.ProtoMinor = 2, 0
			func() {
				defer func() {
					if p := recover(); p != "fault" {
						t.Errorf("recovered %v, want the method's panic", p)
					}
				}()
				h.ServeHTTP(w, r)
			}()
			w.mu.Lock()
			w.returned = true
			inFlight := w.inFlight
			w.mu.Unlock()
			close(w.release) // a write still blocked may go on now
			if inFlight != 0 {
				t.Fatalf("%d writes still running on the ResponseWriter when ServeHTTP returned", inFlight)
			}
			w.mu.Lock()
			late := w.lateCalls
			w.mu.Unlock()
			if late != 0 {
				t.Fatalf("%d writes after ServeHTTP returned", late)
			}
		})
	}
}
