module polyconnect.dev/interceptors

go 1.25.0
