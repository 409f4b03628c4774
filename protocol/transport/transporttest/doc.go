// Package transporttest holds tests any transport can run against itself:
// the parts of the contract in package transport that are about behaviour
// rather than types. A transport module calls them from its own tests.
//
//   - [DescriptorExhaustion] runs a server of the transport in a child
//     process with a low descriptor limit, exhausts its descriptors while a
//     client connects, frees them and checks that the server serves again
//     (Unix only).
package transporttest
