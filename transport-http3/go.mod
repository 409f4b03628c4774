module polyconnect.dev/transport-http3

go 1.25.0
