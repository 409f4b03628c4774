// Package transporttest holds tests any transport can run against itself:
// the parts of the contract in package transport that are about behaviour
// rather than types. A transport module calls them from its own tests.
//
//   - [BodyContract] checks a client against the request body contract of
//     package transport: in-memory bodies (with a Len method) of every size
//     around transport-h2's read-ahead limit arrive whole, last bytes sent
//     with io.EOF included; streaming bodies flow while the response
//     arrives; the body is closed on every path, a failed dial included.
//   - [DescriptorExhaustion] runs a server of the transport in a child
//     process with a low descriptor limit, exhausts its descriptors while a
//     client connects, frees them and checks that the server serves again
//     (Unix only).
package transporttest
