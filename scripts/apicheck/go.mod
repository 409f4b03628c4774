module polyconnect.dev/apicheck

go 1.26.0
