// Package balance spreads a client's HTTP requests over several replicas
// of one service: the client-side load balancing behind a
// [polyconnect.dev/protocol/transport.Config] with a Balance section, usable
// on its own with any HTTP client per address.
//
// A [Client] is addressed by a logical target ("greet.internal:8080").
// A [Resolver] turns the target into replica addresses: [Static] is a fixed
// list, [DNS] looks the host up again every resolve interval while the
// client is in use, adding and removing replicas as the answer changes.
// The Client keeps one Backend (an HTTP client with its own connection
// pool) per address and sends each request to one of them, chosen by its
// [Policy]: [RoundRobin] or [LeastLoaded] (fewest requests in flight).
// Requests keep the logical target as their Host header; only the address
// they are sent to changes.
//
// # Failures
//
// A replica whose exchange fails at the transport level (connection
// refused or reset, a broken stream, anything but the caller's own
// cancellation), or that answers "unavailable" (HTTP 503, the Connect
// protocol's code for it, or gRPC status UNAVAILABLE in a trailers-only
// response or in the trailers, which gRPC-Web keeps in the body, out of
// this package's sight; see [WithUnavailableEjection]), is ejected:
// no request is sent to it until its ejection time passes, then one
// request probes it. A probe that gets a good response brings the replica
// back; one that fails ejects it again for twice as long, up to a maximum. When every replica is ejected, requests go to the
// one due back soonest rather than failing unsent.
//
// A request that provably never reached a replica (its connection could
// not be dialled) is sent to another replica at once, transparently, with
// its body intact, and so is a request that HTTP calls safe (GET, HEAD,
// OPTIONS, TRACE: Connect calls to methods without side effects) whose
// exchange failed. Any other request that may have reached a replica is
// never resent by this package: whether it is safe to repeat depends on the
// RPC method, which is what a retry interceptor (polyconnect.dev/
// interceptors/retry) decides. Together they survive a replica killed under load: the
// retry of an interrupted idempotent call finds the dead replica already
// ejected.
//
// # Background work
//
// There is none between requests. Re-resolution starts from a request that
// finds the addresses older than the resolve interval, runs in a goroutine
// of its own that ends with the lookup, and is waited for only when there
// are no addresses yet. CloseIdleConnections cancels a running lookup,
// waits for it and closes every backend's idle connections, so a Client
// that is no longer used holds no goroutine.
package balance
