package transport

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"polyconnect.dev/protocol/transport/balance"
)

// Resolve modes of a [BalanceConfig].
const (
	ResolveStatic = "static" // the replicas are BalanceConfig.Addrs
	ResolveDNS    = "dns"    // the replicas are the IPs of Config.Addr's host, looked up again periodically
)

// BalanceConfig makes a client spread its calls over several replicas of
// one service (client only). With it, [NewClient] returns a client that
// keeps one client of the named transport per replica address, sends each
// request to one replica by Policy, ejects a replica whose connection
// fails or that answers "unavailable" (HTTP 503, gRPC UNAVAILABLE; see
// IgnoreUnavailable) and probes it back later, and sends a request that
// was not processed (no connection, a refused stream) to the next
// replica. See package
// [polyconnect.dev/protocol/transport/balance] for the details.
//
// Config.Addr is then the service's logical address: the client's URL,
// the Host header of every request, and the TLS server name the replicas'
// certificates must carry (unless TLS.ServerName says otherwise).
//
//	{"name": "h2c", "addr": "greet:8080", "balance": {"addrs": ["10.0.0.1:8080", "10.0.0.2:8080"]}}
//	{"name": "h2", "addr": "greet.internal:8443", "balance": {"resolve": "dns", "policy": "least_loaded"}}
type BalanceConfig struct {
	// Resolve says where the replica addresses come from: "static" (the
	// default) for Addrs, "dns" for the IPs of Config.Addr's host, with
	// its port, looked up again every ResolveInterval while in use.
	Resolve string `json:"resolve,omitempty" yaml:"resolve,omitempty"`

	// Addrs lists the replicas as "host:port" (resolve "static" only).
	Addrs []string `json:"addrs,omitempty" yaml:"addrs,omitempty"`

	// ResolveInterval is how old DNS answers may get before a call starts
	// a new lookup (resolve "dns" only; default 30s).
	ResolveInterval Duration `json:"resolve_interval,omitempty" yaml:"resolve_interval,omitempty"`

	// Policy picks the replica for each call: "round_robin" (the default)
	// or "least_loaded" (fewest calls in flight).
	Policy string `json:"policy,omitempty" yaml:"policy,omitempty"`

	// IgnoreUnavailable keeps replicas that answer "unavailable" (HTTP 503,
	// gRPC UNAVAILABLE) in service: only connection failures eject them.
	// By default such answers eject a replica as failures do.
	IgnoreUnavailable bool `json:"ignore_unavailable,omitempty" yaml:"ignore_unavailable,omitempty"`

	// EjectionTime is how long a failed replica is first left alone
	// (default 500ms); each failed probe doubles it, up to
	// MaxEjectionTime (default 30s).
	EjectionTime    Duration `json:"ejection_time,omitempty" yaml:"ejection_time,omitempty"`
	MaxEjectionTime Duration `json:"max_ejection_time,omitempty" yaml:"max_ejection_time,omitempty"`
}

// balancedClient is a balance.Client with the logical URL.
type balancedClient struct {
	*balance.Client
	url string
}

func (c *balancedClient) URL() string { return c.url }

// newBalancedClient builds the client for a Config with a Balance section:
// one client of transport t per replica address.
func newBalancedClient(t Transport, cfg Config) (Client, error) {
	b := cfg.Balance
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("transport: balance needs addr, the service's logical host:port: %w", err)
	}
	policy, err := balance.ParsePolicy(b.Policy)
	if err != nil {
		return nil, fmt.Errorf("transport: balance.policy: %w", err)
	}
	var resolver balance.Resolver
	switch b.Resolve {
	case "", ResolveStatic:
		if len(b.Addrs) == 0 {
			return nil, errors.New("transport: balance needs addrs (the replicas' host:port) with resolve \"static\"")
		}
		resolver = balance.Static(b.Addrs...)
	case ResolveDNS:
		if len(b.Addrs) != 0 {
			return nil, errors.New("transport: balance.addrs is for resolve \"static\"; with \"dns\" the replicas are the IPs of addr's host")
		}
		resolver = balance.DNS(cfg.Addr, nil)
	default:
		return nil, fmt.Errorf("transport: balance.resolve %q is not \"static\" or \"dns\"", b.Resolve)
	}

	// The client for the logical address gives the URL (and its scheme)
	// and reports configuration errors now rather than at the first call.
	base := cfg
	base.Balance = nil
	logical, err := t.NewClient(base)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(logical.URL())
	logical.CloseIdleConnections()
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("transport: transport %q gave no URL for %q", cfg.Name, cfg.Addr)
	}
	if u.Scheme == "https" {
		base = withServerName(base, host)
	}
	newBackend := func(addr string) (balance.Backend, error) {
		c := base
		c.Addr = addr
		return t.NewClient(c)
	}
	bc, err := balance.New(cfg.Addr, resolver, newBackend,
		balance.WithPolicy(policy),
		balance.WithResolveInterval(max(0, b.ResolveInterval.std())),
		balance.WithEjection(b.EjectionTime.std(), b.MaxEjectionTime.std()),
		balance.WithUnavailableEjection(!b.IgnoreUnavailable))
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	return &balancedClient{Client: bc, url: u.String()}, nil
}

// withServerName makes the replicas' clients verify the logical host,
// since their URLs carry the replicas' addresses.
func withServerName(cfg Config, host string) Config {
	switch {
	case cfg.TLSConfig != nil:
		if cfg.TLSConfig.ServerName == "" {
			cfg.TLSConfig = cfg.TLSConfig.Clone()
			cfg.TLSConfig.ServerName = host
		}
	case cfg.TLS != nil:
		if cfg.TLS.ServerName == "" {
			tlsCopy := *cfg.TLS
			tlsCopy.ServerName = host
			cfg.TLS = &tlsCopy
		}
	default:
		cfg.TLS = &TLSConfig{ServerName: host}
	}
	return cfg
}

func (d Duration) std() time.Duration { return time.Duration(d) }
