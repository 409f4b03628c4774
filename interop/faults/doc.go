// Package faults holds the fault matrix of issue 19: the same failures
// provoked over every polyconnect transport (http1, h2c, h2, h2c-rpc,
// h2-rpc, h3) and every protocol (Connect, gRPC, gRPC-Web), with the code
// each side of the call must end with. It has tests only.
//
// TestFaultMatrix provokes the faults an application or a network causes
// on real servers of each transport: a handler that panics or aborts
// mid-stream, a client that cancels before the response or during a
// stream, a connection killed under a call, a graceful shutdown (GOAWAY)
// under a call, a deadline. TestPeerFaultMatrix provokes the faults only a
// server's transport can cause (a stream reset with each meaningful code,
// before and after the response headers; a refused stream; GOAWAY before
// processing and with ENHANCE_YOUR_CALM under a call) from scripted peers,
// a hand-driven HTTP/2 server and quic-go's HTTP/3 server, so that no test
// hook has to be exported from a transport.
//
// It lives in the interop module because that unpublished module already
// requires every transport and may require what the scripted peers need
// (golang.org/x/net's framer, quic-go's server), and its tests run in CI
// with the race detector (scripts/test.sh, QUICK included); a package of
// its own keeps it apart from the tests against peer implementations.
//
// Where the contract gives the two sides different codes, or HTTP/1.1
// cannot express a fault, the fault says so (see wantOn, serverAlso and
// why in matrix_test.go); each test logs the whole table.
package faults
