module polyconnect.dev/examples

go 1.26.0

require (
	go.yaml.in/yaml/v3 v3.0.4
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/protocol v0.1.0
	polyconnect.dev/transport-nethttp v0.1.0
)

require github.com/klauspost/compress v1.20.4 // indirect

replace (
	polyconnect.dev/protocol => ../protocol
	polyconnect.dev/transport-nethttp => ../transport-nethttp
)
