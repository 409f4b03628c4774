module polyconnect.dev/transport-h2

go 1.25.0
