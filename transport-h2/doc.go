// Package h2 is polyconnect's HTTP/2 engine written for RPC: a server for
// any http.Handler and a client implementing transport.Client, on the
// framing (Framer) and header compression (hpack) of golang.org/x/net/http2,
// with a connection state machine, stream scheduling and flow control of
// its own. The package is named h2; it lives in the folder (and module)
// transport-h2, so import it as
//
//	import h2 "polyconnect.dev/transport-h2"
//
// or, to use it only through package transport's registry,
//
//	import _ "polyconnect.dev/transport-h2"
//
// Importing it registers two names with package transport; a Config
// that names one selects it (polyconnect's quick start and examples do).
//
//   - "h2c-rpc": cleartext HTTP/2 with prior knowledge.
//   - "h2-rpc": HTTP/2 over TLS, negotiated with ALPN ("h2").
//
// Servers of both names take HTTP/1.x clients on the same port (the
// one-port mode): a cleartext connection whose first bytes are not the
// HTTP/2 connection preface, or a TLS connection that negotiated
// "http/1.1" (or nothing) with ALPN, is handed to a net/http server for the
// same handler, with the bytes already read replayed, so curl, browsers and
// HTTP/1.1 clients reach the service where HTTP/2 clients do.
// [WithoutHTTP1] makes a server speak HTTP/2 only.
//
// Each connection has one goroutine that reads and dispatches frames and
// one that writes: handlers and callers queue headers, data and trailers,
// and the writer turns everything queued, on every stream, into frames and
// hands them to the socket in one write, so that under load many calls
// share a system call. Small writes are copied into the stream's queue;
// large ones are lent to the writer, which copies them straight into the
// batch while the caller waits. The reader wakes a waiting handler or
// caller once per burst of frames, and handlers run on kept goroutines.
// Flow-control windows start at 256 KiB per stream and 1 MiB per
// connection and grow, up to 8 MiB and 16 MiB, when the bandwidth-delay
// product measured with PINGs asks for it, a stream's only once its reader
// has drained it; what a connection holds unread, plus the window its peer
// may still use, stays within WithConnBufferLimit.
//
// Servers serve any http.Handler: http.Flusher, trailers (keys with
// http.TrailerPrefix, or announced in a "Trailer" header), full-duplex
// request bodies, 1xx responses, and the ResponseController methods
// SetReadDeadline, SetWriteDeadline and EnableFullDuplex. A request's
// context ends when the client resets the stream, when the connection
// closes and when the handler returns. [Server.Shutdown] says GOAWAY in two
// steps and lets streams in flight finish.
//
// Servers defend themselves against what HTTP/2 servers have got wrong in
// public: streams reset as soon as they are opened, or made to be reset by
// the server (rapid reset and MadeYouReset: no more than
// MaxConcurrentStreams handlers run at once, and a client that keeps more
// waiting is told ENHANCE_YOUR_CALM), endless CONTINUATION frames, HPACK
// bombs and oversize header lists (431, decoding bounded by
// MaxHeaderBytes, and the headers of a connection's requests in flight by
// a budget), floods of SETTINGS, PING, PRIORITY, empty or unknown frames
// and of frames that earn a reset (answers have a budget only time pays
// back, and junk one that only real work does), peers that do not read what
// they ask for, peers that keep a flow-control window shut
// (WithFlowControlTimeout), clients that ping too often (GOAWAY
// too_many_pings), and connections that stall in the handshake, inside a
// header block, or idle. transport.Config's keep-alive and connection
// lifetime fields (PingInterval, PingTimeout, MinPingInterval,
// PermitPingsWithoutCalls, MaxConnectionAge, MaxConnectionAgeGrace,
// IdleTimeout) work as grpc-go's keep-alive options do.
//
// Clients keep a pool of connections per host, put as many concurrent
// requests on one as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows
// before opening another (within Config.MaxConnsPerHost), and retry
// requests the server did not process (REFUSED_STREAM, GOAWAY) when their
// body can be sent again. A request body that can be replayed (GetBody)
// and is in memory (a known ContentLength, or a Len method) is read up
// front, up to 64 KiB, and leaves with the headers in one write; any other
// body streams as the caller writes it.
//
// What it does not do: HTTP/1.1 of its own (servers hand it to net/http;
// clients speak HTTP/2 only: use transport-nethttp's "http1" to call an
// HTTP/1.1 server), the HTTP/1.1 Upgrade to h2c (such a request is
// answered in HTTP/1.1), server push, proxies, and stream priorities
// (frames are scheduled round-robin).
package h2
