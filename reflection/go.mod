module polyconnect.dev/reflection

go 1.25.0
