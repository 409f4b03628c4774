module polyconnect.dev/protocol

go 1.25.0
