module polyconnect.dev/transcode

go 1.26.0

require (
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/protobuf v1.36.12
	polyconnect.dev/protocol v0.2.0
)

require github.com/klauspost/compress v1.20.4 // indirect

replace polyconnect.dev/protocol => ../protocol
