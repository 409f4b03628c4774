// Package h3 provides polyconnect's HTTP/3 transport, on
// github.com/quic-go/quic-go. The package is named h3; it lives in the
// folder (and module) transport-http3, so import it as
//
//	import h3 "polyconnect.dev/transport-http3"
//
// or, to use it only through package transport's registry,
//
//	import _ "polyconnect.dev/transport-http3"
//
// Importing it registers the name "h3" with package transport. A program
// that reads its transport from configuration moves from HTTP/2 to HTTP/3
// by changing "name: h2" to "name: h3" and adding that blank import; the
// other fields (address, certificates, client certificates, timeouts,
// stream limits) mean the same on both.
//
// HTTP/3 always runs over TLS 1.3 (ALPN "h3"), so a server needs a
// certificate and a client's URLs are https. Every RPC protocol works over
// it: Connect (GET included), gRPC and gRPC-Web, with full-duplex
// bidirectional streams and trailers.
//
// Servers serve any http.Handler on a UDP socket. [Server.Shutdown] is
// graceful: it sends GOAWAY, lets the calls in flight, unary and streaming,
// finish, and returns when the clients have closed their connections. An
// HTTP/2 companion on the same port (TCP) can advertise HTTP/3 with
// Alt-Svc, for browsers and curl: see [WithHTTP2Companion].
//
// Clients pool one QUIC connection per host and send every call on it as a
// stream of its own. Their errors read as on the other transports: a
// cancelled or expired call is canceled or deadline_exceeded (not an
// H3_REQUEST_CANCELLED stream error), a refused stream or a vanished or
// untrusted server is unavailable.
//
// 0-RTT is off: servers accept 0-RTT data only with Config.Allow0RTT
// (allow_0rtt in a config file) or [WithServer0RTT]
// (0-RTT requests can be replayed by an attacker), and clients never send
// it.
//
// Code that does not use transport.Config files can call [NewServer] and
// [NewClient] directly: they return the concrete types and take Go options
// for what a Config cannot hold, such as a ready UDP socket.
package h3
