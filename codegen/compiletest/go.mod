module polyconnect.dev/codegen/compiletest

go 1.25.0

require (
	go.uber.org/goleak v1.3.0
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/protocol v0.2.0
)

require github.com/klauspost/compress v1.20.4 // indirect

replace polyconnect.dev/protocol => ../../protocol
