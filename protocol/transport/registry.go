package transport

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrUnknown is wrapped by the error [NewServer] and [NewClient] return for
// a name no transport registered.
var ErrUnknown = errors.New("transport: unknown transport")

// providers maps the well-known names to the import that registers them,
// for the error message when one is missing.
// The transport-h2 names are spelled out here: protocol imports no sibling.
var providers = map[string]string{
	NameHTTP1: "polyconnect.dev/transport-nethttp",
	NameH2C:   "polyconnect.dev/transport-nethttp",
	NameH2:    "polyconnect.dev/transport-nethttp",
	NameH3:    "polyconnect.dev/transport-http3",
	"h2c-rpc": "polyconnect.dev/transport-h2",
	"h2-rpc":  "polyconnect.dev/transport-h2",
}

// registry is a set of transports by name, safe for concurrent use.
type registry struct {
	mu sync.RWMutex
	m  map[string]Transport
}

var defaultRegistry registry

// Register makes t available under name. Transport modules call it from
// an init function; the registry is read-only after program start-up in
// practice. Register panics if name is empty, t is nil, or name is already
// registered.
func Register(name string, t Transport) { defaultRegistry.register(name, t) }

// Lookup returns the transport registered under name.
func Lookup(name string) (Transport, bool) { return defaultRegistry.lookup(name) }

// Names returns the registered names, sorted.
func Names() []string { return defaultRegistry.names() }

// NewServer builds a server for h with the transport registered under
// cfg.Name. The server is not listening yet: call Start or Serve.
func NewServer(cfg Config, h http.Handler) (Server, error) {
	t, err := defaultRegistry.get(cfg.Name)
	if err != nil {
		return nil, err
	}
	return t.NewServer(cfg, h)
}

// NewClient builds a client with the transport registered under cfg.Name.
// With cfg.Balance set, it returns a client that spreads calls over the
// replicas, with one client of that transport per replica.
func NewClient(cfg Config) (Client, error) {
	t, err := defaultRegistry.get(cfg.Name)
	if err != nil {
		return nil, err
	}
	if cfg.Balance != nil {
		return newBalancedClient(t, cfg)
	}
	return t.NewClient(cfg)
}

func (r *registry) register(name string, t Transport) {
	if name == "" {
		panic("transport: Register with an empty name")
	}
	if t == nil {
		panic("transport: Register of a nil Transport for " + strconv.Quote(name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[name]; dup {
		panic("transport: Register called twice for " + strconv.Quote(name))
	}
	if r.m == nil {
		r.m = make(map[string]Transport)
	}
	r.m[name] = t
}

func (r *registry) lookup(name string) (Transport, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.m[name]
	return t, ok
}

func (r *registry) names() []string {
	r.mu.RLock()
	names := make([]string, 0, len(r.m))
	for name := range r.m {
		names = append(names, name)
	}
	r.mu.RUnlock()
	slices.Sort(names)
	return names
}

// get is lookup with an error that says how to fix a missing transport.
func (r *registry) get(name string) (Transport, error) {
	if name == "" {
		if len(r.names()) == 0 {
			return nil, errors.New("transport: Config.Name is empty and no transport is registered; import one, for example _ \"polyconnect.dev/transport-nethttp\"")
		}
		return nil, errors.New("transport: Config.Name is empty (registered: " + r.describe() + ")")
	}
	if t, ok := r.lookup(name); ok {
		return t, nil
	}
	var b strings.Builder
	b.WriteString(" ")
	b.WriteString(strconv.Quote(name))
	b.WriteString(" (registered: ")
	b.WriteString(r.describe())
	b.WriteString("); ")
	if path, ok := providers[name]; ok {
		b.WriteString("add a blank import of the module that provides it to your main package: import _ ")
		b.WriteString(strconv.Quote(path))
	} else {
		b.WriteString("import the package that registers it (the names polyconnect's modules register: " +
			"\"http1\", \"h2c\", \"h2\" from polyconnect.dev/transport-nethttp, " +
			"\"h2c-rpc\", \"h2-rpc\" from polyconnect.dev/transport-h2, \"h3\" from polyconnect.dev/transport-http3)")
	}
	return nil, fmt.Errorf("%w%s", ErrUnknown, b.String())
}

func (r *registry) describe() string {
	names := r.names()
	if len(names) == 0 {
		return "none"
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return strings.Join(quoted, ", ")
}
