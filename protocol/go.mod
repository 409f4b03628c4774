module polyconnect.dev/protocol

go 1.25.0

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/klauspost/compress v1.20.4
	google.golang.org/protobuf v1.36.12
)
