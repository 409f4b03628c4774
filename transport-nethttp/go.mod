module polyconnect.dev/transport-nethttp

go 1.25.0

require polyconnect.dev/protocol v0.2.0

require go.uber.org/goleak v1.3.0

require (
	github.com/klauspost/compress v1.20.4 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace polyconnect.dev/protocol => ../protocol
