module polyconnect.dev/interop

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/andybalholm/brotli v1.3.0
	github.com/klauspost/compress v1.20.4
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/protocol v0.0.0
)

replace polyconnect.dev/protocol => ../protocol
