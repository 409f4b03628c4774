module polyconnect.dev/transport-h2

go 1.25.0

require (
	go.uber.org/goleak v1.3.0
	golang.org/x/net v0.56.0
	polyconnect.dev/protocol v0.1.0
)

require golang.org/x/text v0.38.0 // indirect

replace polyconnect.dev/protocol => ../protocol
