module polyconnect.dev/interop

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	connectrpc.com/connect/v2 v2.0.2
	connectrpc.com/otelconnect v0.12.0
	github.com/andybalholm/brotli v1.3.0
	github.com/getkin/kin-openapi v0.153.0
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.34.0
	github.com/klauspost/compress v1.20.4
	github.com/quic-go/quic-go v0.65.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	golang.org/x/net v0.62.0
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/health v0.2.0
	polyconnect.dev/interceptors v0.2.0
	polyconnect.dev/otel v0.2.0
	polyconnect.dev/protocol v0.2.0
	polyconnect.dev/reflection v0.2.0
	polyconnect.dev/transcode v0.2.0
	polyconnect.dev/transport-h2 v0.2.0
	polyconnect.dev/transport-http3 v0.2.0
	polyconnect.dev/transport-nethttp v0.2.0
)

require (
	github.com/quic-go/qpack v0.6.0
	golang.org/x/crypto v0.58.0 // indirect
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab // indirect
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
)

replace polyconnect.dev/protocol => ../protocol

replace polyconnect.dev/interceptors => ../interceptors

replace polyconnect.dev/otel => ../otel

replace polyconnect.dev/transport-http3 => ../transport-http3

replace polyconnect.dev/health => ../health

replace polyconnect.dev/reflection => ../reflection

replace polyconnect.dev/transport-nethttp => ../transport-nethttp

replace polyconnect.dev/transport-h2 => ../transport-h2

tool (
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
)

replace polyconnect.dev/transcode => ../transcode
