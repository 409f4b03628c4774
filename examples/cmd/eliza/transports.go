package main

// The transports the demo serves on and -transport chooses from: each
// module registers its names with package transport when imported, and
// the demo serves on every registered name. HTTP/3 joins with one more line
// once transport-http3 lands:
//
//	_ "polyconnect.dev/transport-http3" // h3
import (
	_ "polyconnect.dev/transport-nethttp" // http1, h2c, h2
)
