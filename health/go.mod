module polyconnect.dev/health

go 1.25.0
