module polyconnect.dev/codegen

go 1.25.0

require (
	go.uber.org/goleak v1.3.0
	google.golang.org/protobuf v1.36.12
)
