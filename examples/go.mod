module polyconnect.dev/examples

go 1.26.0

require (
	github.com/prometheus/client_golang v1.24.1
	go.opentelemetry.io/otel v1.47.0
	go.opentelemetry.io/otel/exporters/prometheus v0.69.0
	go.opentelemetry.io/otel/sdk v1.47.0
	go.opentelemetry.io/otel/sdk/metric v1.47.0
	go.opentelemetry.io/otel/trace v1.47.0
	go.yaml.in/yaml/v3 v3.0.5
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/grpccompat v0.2.0
	polyconnect.dev/health v0.2.0
	polyconnect.dev/interceptors v0.2.0
	polyconnect.dev/otel v0.2.0
	polyconnect.dev/protocol v0.2.0
	polyconnect.dev/reflection v0.2.0
	polyconnect.dev/transcode v0.2.0
	polyconnect.dev/transport-h2 v0.2.0
	polyconnect.dev/transport-nethttp v0.2.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/otlptranslator v1.0.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/quic-go/qpack v0.6.0 // indirect
	github.com/quic-go/quic-go v0.65.0 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261104224025-d1e00e9f33ab // indirect
)

require (
	github.com/klauspost/compress v1.20.4 // indirect
	polyconnect.dev/transport-http3 v0.2.0
)

replace (
	polyconnect.dev/grpccompat => ../grpccompat
	polyconnect.dev/health => ../health
	polyconnect.dev/interceptors => ../interceptors
	polyconnect.dev/otel => ../otel
	polyconnect.dev/protocol => ../protocol
	polyconnect.dev/reflection => ../reflection
	polyconnect.dev/transport-h2 => ../transport-h2
	polyconnect.dev/transport-nethttp => ../transport-nethttp
)

replace polyconnect.dev/transport-http3 => ../transport-http3

replace polyconnect.dev/transcode => ../transcode
