module polyconnect.dev/bench

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	connectrpc.com/otelconnect v0.12.0
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.34.0
	github.com/quic-go/quic-go v0.65.0
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/metric v1.47.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/grpccompat v0.2.0
	polyconnect.dev/interceptors v0.2.0
	polyconnect.dev/otel v0.2.0
	polyconnect.dev/protocol v0.2.0
	polyconnect.dev/transcode v0.2.0
	polyconnect.dev/transport-h2 v0.2.0
	polyconnect.dev/transport-nethttp v0.2.0
)

require (
	connectrpc.com/connect/v2 v2.0.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/quic-go/qpack v0.6.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
)

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	github.com/klauspost/compress v1.20.4 // indirect
	golang.org/x/net v0.62.0
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab // indirect
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	polyconnect.dev/transport-http3 v0.2.0
)

replace (
	polyconnect.dev/grpccompat => ../grpccompat
	polyconnect.dev/interceptors => ../interceptors
	polyconnect.dev/otel => ../otel
	polyconnect.dev/protocol => ../protocol
	polyconnect.dev/transport-h2 => ../transport-h2
	polyconnect.dev/transport-nethttp => ../transport-nethttp
)

tool (
	connectrpc.com/connect/cmd/protoc-gen-connect-go
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
	golang.org/x/perf/cmd/benchstat
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
)

replace polyconnect.dev/transport-http3 => ../transport-http3

replace polyconnect.dev/transcode => ../transcode
