package transport_test

import (
	"encoding/json"
	"fmt"

	"polyconnect.dev/protocol/transport"
)

// A client configured with three replicas. With a transport module
// imported, transport.NewClient(cfg) returns a client that spreads calls
// over them; its URL is the logical "http://greet:8080", so generated
// clients are built as usual: greetv1rpc.NewGreetServiceClient(c, c.URL()).
func ExampleBalanceConfig() {
	const file = `{
		"name": "h2c",
		"addr": "greet:8080",
		"balance": {
			"addrs": ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"],
			"policy": "least_loaded"
		}
	}`
	var cfg transport.Config
	if err := json.Unmarshal([]byte(file), &cfg); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Addr, cfg.Balance.Addrs, cfg.Balance.Policy)
	// Output:
	// greet:8080 [10.0.0.1:8080 10.0.0.2:8080 10.0.0.3:8080] least_loaded
}
