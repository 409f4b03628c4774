module polyconnect.dev/otel

go 1.25.0
