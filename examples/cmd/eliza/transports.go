package main

// The transports the demo serves on and -transport chooses from: each
// module registers its names with package transport when imported, and
// the demo serves on every registered name. A transport is one line here.
import (
	_ "polyconnect.dev/transport-h2"      // h2c-rpc, h2-rpc
	_ "polyconnect.dev/transport-http3"   // h3
	_ "polyconnect.dev/transport-nethttp" // http1, h2c, h2
)
