package transport_test

import (
	"encoding/json"
	"fmt"
	"net/http"

	"polyconnect.dev/protocol/transport"
)

// A service reads its transport from configuration. Switching from HTTP/2
// to HTTP/3 is a change of "name" plus a blank import of the module that
// registers "h3".
func Example() {
	const file = `{
		"name": "h2",
		"addr": ":8443",
		"idle_timeout": "2m",
		"tls": {"cert_file": "server.pem", "key_file": "server-key.pem"}
	}`
	var cfg transport.Config
	if err := json.Unmarshal([]byte(file), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Name, cfg.Addr, cfg.IdleTimeout, cfg.TLS.CertFile)

	// This program imports no transport module, so the registry is empty
	// and the error says what to import. With
	// import _ "polyconnect.dev/transport-nethttp" it would return an
	// HTTP/2 server, ready for Start or Serve.
	_, err := transport.NewServer(cfg, http.NotFoundHandler())
	fmt.Println(err)
	// Output:
	// h2 :8443 2m0s server.pem
	// transport: unknown transport "h2" (registered: none); add a blank import of the module that provides it to your main package: import _ "polyconnect.dev/transport-nethttp"
}

func ExampleDuration() {
	type timeouts struct {
		Read transport.Duration `json:"read"`
		Idle transport.Duration `json:"idle"`
	}
	var t timeouts
	if err := json.Unmarshal([]byte(`{"read": "1.5s", "idle": "90s"}`), &t); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := json.Marshal(t)
	fmt.Println(string(out))
	// Output:
	// {"read":"1.5s","idle":"1m30s"}
}
