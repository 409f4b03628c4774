package transport

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config selects a transport by Name and configures the server or client it
// builds. The zero value of every field other than Name and Addr means "use
// the transport's default", so a config file needs to mention only what it
// changes. Fields that apply only to servers are ignored by clients and the
// other way round.
//
// Config is plain data: it can be decoded from JSON or YAML (field names are
// snake_case, durations are strings such as "5s" or "1m30s"), compared and
// copied. The one exception is TLSConfig, which exists for programmatic use
// and is never encoded. Decoding is strict: a key no field has (a typo such
// as "idle_timout") is a *ConfigKeyError naming the key and its line, with
// encoding/json and with the YAML libraries (config_keys.go).
type Config struct {
	// Name is the registered transport to use: NameHTTP1, NameH2C, NameH2 or
	// NameH3, or any other name a transport module registers.
	Name string `json:"name" yaml:"name"`

	// Addr is the address a server listens on or a client talks to, as
	// "host:port". A server may use port 0 to let the system pick a free
	// port, and report it with Server.Addr. For a client, Addr is optional
	// and only used to build Client.URL; requests may target any URL.
	Addr string `json:"addr,omitempty" yaml:"addr,omitempty"`

	// TLS configures certificates for the transports that use TLS, and
	// for clients the roots they trust. Leave it nil for cleartext
	// transports (http1 without TLS, h2c).
	TLS *TLSConfig `json:"tls,omitempty" yaml:"tls,omitempty"`

	// ReadHeaderTimeout is the time a server allows a client to send the
	// request headers (server only).
	ReadHeaderTimeout Duration `json:"read_header_timeout,omitempty" yaml:"read_header_timeout,omitempty"`

	// ReadTimeout is the longest a server spends reading a whole request,
	// body included (server only). Transports leave it off by default:
	// streaming calls are long-lived and it would cut them. Prefer per-call
	// deadlines.
	ReadTimeout Duration `json:"read_timeout,omitempty" yaml:"read_timeout,omitempty"`

	// WriteTimeout is the longest a server spends writing a response
	// (server only). Off by default for the same reason as ReadTimeout.
	WriteTimeout Duration `json:"write_timeout,omitempty" yaml:"write_timeout,omitempty"`

	// IdleTimeout is how long an idle keep-alive connection is kept open:
	// by a server before it closes it, by a client before it drops it from
	// its pool. On a server it is grpc-go's MaxConnectionIdle: a connection
	// that has carried no call for this long is closed (HTTP/2 and HTTP/3
	// servers send GOAWAY first).
	IdleTimeout Duration `json:"idle_timeout,omitempty" yaml:"idle_timeout,omitempty"`

	// MaxConnectionAge is how long a server lets a client use one
	// connection: past it, the server asks the client to move to a new
	// connection (HTTP/2 and HTTP/3 GOAWAY; HTTP/1.1 "Connection: close"
	// on the next response), lets the calls in flight finish for
	// MaxConnectionAgeGrace, then closes the connection. It spreads
	// long-lived clients over replicas that were added behind a load
	// balancer, as grpc-go's MaxConnectionAge does. Transports add up to
	// 10% of random jitter so that connections opened together do not all
	// age out together. Zero means no limit (server only).
	MaxConnectionAge Duration `json:"max_connection_age,omitempty" yaml:"max_connection_age,omitempty"`

	// MaxConnectionAgeGrace is how long calls in flight on a connection
	// that reached MaxConnectionAge may take before the connection is
	// closed under them. Zero means no limit: the connection closes when
	// its last call ends (server only).
	MaxConnectionAgeGrace Duration `json:"max_connection_age_grace,omitempty" yaml:"max_connection_age_grace,omitempty"`

	// PingTimeout is how long a keep-alive ping (see PingInterval) may go
	// unanswered before the connection is taken for dead and closed,
	// failing its calls as lost connections. Zero means the transport's
	// default (client and server).
	PingTimeout Duration `json:"ping_timeout,omitempty" yaml:"ping_timeout,omitempty"`

	// MinPingInterval is a server's keep-alive enforcement: a client that
	// sends keep-alive pings more often than this is told to stop with
	// GOAWAY ENHANCE_YOUR_CALM and the debug data "too_many_pings", as
	// grpc-go's EnforcementPolicy.MinTime does, and its connection is
	// closed. Pings a transport needs for its own work (flow-control
	// bandwidth probes, pings sent back while data flows) never count.
	// Zero means the transport's default; a negative value turns
	// enforcement off (server only).
	MinPingInterval Duration `json:"min_ping_interval,omitempty" yaml:"min_ping_interval,omitempty"`

	// PermitPingsWithoutCalls lets clients send keep-alive pings on a
	// connection that carries no call without counting against
	// MinPingInterval's enforcement (server), and makes a client keep
	// pinging a connection that carries no call (client), as grpc-go's
	// PermitWithoutStream does.
	PermitPingsWithoutCalls bool `json:"permit_pings_without_calls,omitempty" yaml:"permit_pings_without_calls,omitempty"`

	// MaxHeaderBytes limits the size of the request headers a server
	// accepts, including the request line (server only).
	MaxHeaderBytes int `json:"max_header_bytes,omitempty" yaml:"max_header_bytes,omitempty"`

	// MaxConcurrentStreams is the number of concurrent HTTP/2 or HTTP/3
	// streams a server allows on one connection (server only).
	MaxConcurrentStreams int `json:"max_concurrent_streams,omitempty" yaml:"max_concurrent_streams,omitempty"`

	// DialTimeout limits how long a client waits for a new connection,
	// TCP or QUIC (client only).
	DialTimeout Duration `json:"dial_timeout,omitempty" yaml:"dial_timeout,omitempty"`

	// TLSHandshakeTimeout limits how long a client waits for the TLS
	// handshake of a new connection (client only).
	TLSHandshakeTimeout Duration `json:"tls_handshake_timeout,omitempty" yaml:"tls_handshake_timeout,omitempty"`

	// MaxIdleConns limits the idle connections a client keeps across all
	// hosts (client only).
	MaxIdleConns int `json:"max_idle_conns,omitempty" yaml:"max_idle_conns,omitempty"`

	// MaxIdleConnsPerHost limits the idle connections a client keeps to one
	// host (client only). It matters most for HTTP/1.1, where each
	// concurrent call needs its own connection.
	MaxIdleConnsPerHost int `json:"max_idle_conns_per_host,omitempty" yaml:"max_idle_conns_per_host,omitempty"`

	// MaxConnsPerHost limits the connections, idle or busy, a client opens
	// to one host; calls beyond it wait (client only). Zero means no limit.
	MaxConnsPerHost int `json:"max_conns_per_host,omitempty" yaml:"max_conns_per_host,omitempty"`

	// PingInterval makes a client or a server send a keep-alive ping on an
	// HTTP/2 or HTTP/3 connection that has received nothing for this long,
	// so that dead peers under long-lived streams are found (grpc-go's
	// keepalive Time); an unanswered ping closes the connection after
	// PingTimeout. A client pings only while it has calls in flight unless
	// PermitPingsWithoutCalls is set. Zero means the transport's default
	// (for most, no pings).
	PingInterval Duration `json:"ping_interval,omitempty" yaml:"ping_interval,omitempty"`

	// Balance, when set, makes a client spread its calls over several
	// replicas of the service at Addr, which becomes a logical name (client
	// only). See [BalanceConfig].
	Balance *BalanceConfig `json:"balance,omitempty" yaml:"balance,omitempty"`

	// Allow0RTT lets an HTTP/3 server accept 0-RTT (early) data from clients
	// resuming a session, which saves them a round trip on reconnection.
	// Early data can be replayed by an attacker, so enable it only when every
	// request a client may send early is safe to repeat (server only; off by
	// default; transports without 0-RTT ignore it).
	Allow0RTT bool `json:"allow_0rtt,omitempty" yaml:"allow_0rtt,omitempty"`

	// TLSConfig, when non-nil, is used instead of everything in TLS. It is
	// the escape hatch for settings that TLS does not cover (certificate
	// reloading, custom verification, cipher suites). Transports clone it
	// before changing anything, such as the ALPN protocols. It is never
	// encoded.
	TLSConfig *tls.Config `json:"-" yaml:"-"`

	// Logger receives what a server reports on its own, outside any call:
	// failed TLS handshakes, HTTP/2 connection errors, requests refused
	// before a handler runs (server only). nil means [slog.Default] at the
	// time of each line, so a program that sets its default logger gets
	// these too. See [Config.ServerErrorLog]. It is never encoded.
	Logger *slog.Logger `json:"-" yaml:"-"`
}

// ServerTLSConfig returns the TLS configuration a server built from c uses:
// a clone of c.TLSConfig if set, else the one built from c.TLS by
// [TLSConfig.ServerConfig], else nil for a cleartext server.
func (c Config) ServerTLSConfig() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone(), nil
	}
	if c.TLS == nil {
		return nil, nil
	}
	return c.TLS.ServerConfig()
}

// ClientTLSConfig returns the TLS configuration a client built from c uses:
// a clone of c.TLSConfig if set, else the one built from c.TLS by
// [TLSConfig.ClientConfig], else nil, meaning the transport's default
// (system roots, server name from the URL).
func (c Config) ClientTLSConfig() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone(), nil
	}
	if c.TLS == nil {
		return nil, nil
	}
	return c.TLS.ClientConfig()
}

// Duration is a time.Duration that encodes as a string in Go's duration
// syntax ("300ms", "5s", "1h30m") in JSON, YAML and any other format that
// uses encoding.TextMarshaler. Transports treat zero as "use the default"
// and, where a timeout can be switched off, a negative value as "none".
type Duration time.Duration

// String returns d in Go's duration syntax.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText encodes d in Go's duration syntax.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText decodes a duration such as "5s". An empty text is zero.
func (d *Duration) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("transport: invalid duration %q (want a string such as \"5s\" or \"1m30s\")", text)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON encodes d as a JSON string such as "5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON decodes a JSON string such as "5s". A bare number is
// refused, because it is unclear whether it means seconds or nanoseconds;
// the one exception is 0.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	if string(data) == "0" {
		*d = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("transport: invalid duration %s (want a string such as \"5s\" or \"1m30s\")", data)
	}
	return d.UnmarshalText([]byte(s))
}

// MarshalYAML encodes d as a string such as "5s". It satisfies the
// marshaler interface of the common YAML libraries without importing one.
func (d Duration) MarshalYAML() (any, error) {
	return time.Duration(d).String(), nil
}

// UnmarshalYAML decodes a string such as "5s" (or 0). It has the signature
// that gopkg.in/yaml.v2, gopkg.in/yaml.v3 and github.com/goccy/go-yaml call,
// so this package needs no YAML dependency.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return errors.New("transport: invalid duration (want a string such as \"5s\" or \"1m30s\")")
	}
	if s == "0" {
		*d = 0
		return nil
	}
	return d.UnmarshalText([]byte(s))
}
