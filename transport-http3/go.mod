module polyconnect.dev/transport-http3

go 1.26.0

require (
	github.com/quic-go/quic-go v0.65.0
	go.uber.org/goleak v1.3.0
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/protocol v0.2.0
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	github.com/quic-go/qpack v0.6.0 // indirect
	golang.org/x/crypto v0.54.0 // indirect
	golang.org/x/net v0.56.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
)

replace polyconnect.dev/protocol => ../protocol
