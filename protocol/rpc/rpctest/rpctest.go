// Package rpctest runs an http.Handler in memory for tests: a [Server]
// that speaks HTTP/1.1 and cleartext HTTP/2 (h2c, with prior knowledge)
// over in-memory connections, and clients for each protocol. No socket is
// opened, so tests are fast, need no free port and run in parallel freely.
//
// The connections are buffered and full duplex, and honour deadlines, so
// everything net/http does over TCP works, including HTTP/2 bidirectional
// streams where the handler writes before the request body is finished.
//
//	srv := rpctest.NewServer(t, mux) // closed when the test ends
//	client := rpc.NewClient[Req, Res](srv.HTTP2Client(), srv.URL(), spec)
package rpctest

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serverCount numbers servers so each has its own host name.
var serverCount atomic.Uint64

// Server is an in-memory HTTP server for tests. Its methods are safe for
// concurrent use.
type Server struct {
	tb       testing.TB
	ln       *memListener
	srv      *http.Server
	url      string
	client   *http.Client
	h2client *http.Client

	mu       sync.Mutex
	closing  bool           // set by Close; later requests are refused
	active   sync.WaitGroup // handlers running
	logsDone bool           // Close finished: drop net/http's log lines

	serveDone chan struct{}
	closeOnce sync.Once
}

// NewServer starts serving h over in-memory connections and registers
// [Server.Close] with tb.Cleanup. The server accepts HTTP/1.1 and HTTP/2
// with prior knowledge (h2c) on the same address.
func NewServer(tb testing.TB, h http.Handler) *Server {
	tb.Helper()
	if h == nil {
		tb.Fatal("rpctest: NewServer with a nil handler")
	}
	host := fmt.Sprintf("srv%d.rpctest.invalid", serverCount.Add(1))
	s := &Server{
		tb:        tb,
		ln:        newMemListener(host),
		url:       "http://" + host,
		serveDone: make(chan struct{}),
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.srv = &http.Server{
		Handler:           s.track(h),
		Protocols:         &protocols,
		ReadHeaderTimeout: time.Minute,
		ErrorLog:          log.New(logWriter{s}, "rpctest: ", 0),
	}
	s.client = s.newClient(false)
	s.h2client = s.newClient(true)
	go func() {
		defer close(s.serveDone)
		// Serve returns http.ErrServerClosed after Close; nothing else can
		// fail on an in-memory listener.
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("serve: %v", err)
		}
	}()
	tb.Cleanup(s.Close)
	return s
}

// URL returns the server's base URL, such as "http://srv1.rpctest.invalid".
// Only the clients returned by [Server.Client] and [Server.HTTP2Client] can
// reach it; the host does not resolve anywhere else.
func (s *Server) URL() string { return s.url }

// Client returns a client that speaks HTTP/1.1 to the server. Like the
// clients of polyconnect's transports, it neither follows redirects nor
// asks for transparent gzip, so tests see the exchange as the RPC layer
// does. Every call returns the same client and connection pool.
func (s *Server) Client() *http.Client { return s.client }

// HTTP2Client returns a client that speaks HTTP/2 with prior knowledge
// (h2c) to the server: one connection, many concurrent streams, full
// duplex. It otherwise behaves as [Server.Client].
func (s *Server) HTTP2Client() *http.Client { return s.h2client }

// Close closes the server's connections, which cancels the contexts of
// running handlers, and waits for the handlers to return. It is registered
// with tb.Cleanup by NewServer; calling it again does nothing.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.client.CloseIdleConnections()
		s.h2client.CloseIdleConnections()
		_ = s.srv.Close()
		<-s.serveDone

		handlersDone := make(chan struct{})
		go func() {
			s.active.Wait()
			close(handlersDone)
		}()
		select {
		case <-handlersDone:
		case <-time.After(5 * time.Second):
			s.logf("Close is waiting for handlers that ignore their request context to return")
			<-handlersDone
		}

		s.mu.Lock()
		s.logsDone = true
		s.mu.Unlock()
	})
}

// track counts running handlers so Close can wait for them, and refuses
// requests that arrive once Close has begun.
func (s *Server) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			http.Error(w, "rpctest: server closed", http.StatusServiceUnavailable)
			return
		}
		s.active.Add(1)
		s.mu.Unlock()
		defer s.active.Done()
		h.ServeHTTP(w, r)
	})
}

func (s *Server) newClient(h2c bool) *http.Client {
	var protocols http.Protocols
	if h2c {
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         s.ln.dial,
			Protocols:           &protocols,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func (s *Server) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.logsDone {
		s.tb.Logf("rpctest: "+format, args...)
	}
}

// logWriter sends net/http's error log to the test log while the server
// is open; once the test is over there is nowhere to write.
type logWriter struct{ s *Server }

func (w logWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if !w.s.logsDone {
		w.s.tb.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}
