module polyconnect.dev/transport-nethttp

go 1.26.0

require polyconnect.dev/protocol v0.0.0

replace polyconnect.dev/protocol => ../protocol
