module polyconnect.dev/transport-nethttp

go 1.25.0

require polyconnect.dev/protocol v0.1.0

require go.uber.org/goleak v1.3.0

replace polyconnect.dev/protocol => ../protocol
