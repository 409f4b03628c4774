package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// fakeTransport records what it was asked to build.
type fakeTransport struct {
	servers, clients int
	lastCfg          Config
}

func (f *fakeTransport) NewServer(cfg Config, h http.Handler) (Server, error) {
	f.servers++
	f.lastCfg = cfg
	return fakeServer{}, nil
}

func (f *fakeTransport) NewClient(cfg Config) (Client, error) {
	f.clients++
	f.lastCfg = cfg
	return fakeClient{}, nil
}

type fakeServer struct{}

func (fakeServer) Start() error                   { return nil }
func (fakeServer) Serve() error                   { return nil }
func (fakeServer) Addr() net.Addr                 { return nil }
func (fakeServer) URL() string                    { return "" }
func (fakeServer) Shutdown(context.Context) error { return nil }
func (fakeServer) Close() error                   { return nil }

type fakeClient struct{}

func (fakeClient) Do(*http.Request) (*http.Response, error) { return nil, errors.New("fake") }
func (fakeClient) CloseIdleConnections()                    {}
func (fakeClient) URL() string                              { return "" }

// emptyDefaultRegistry gives the test an empty package registry and puts
// the original back afterwards. Tests using it must not run in parallel.
func emptyDefaultRegistry(t *testing.T) {
	t.Helper()
	defaultRegistry.mu.Lock()
	saved := defaultRegistry.m
	defaultRegistry.m = nil
	defaultRegistry.mu.Unlock()
	t.Cleanup(func() {
		defaultRegistry.mu.Lock()
		defaultRegistry.m = saved
		defaultRegistry.mu.Unlock()
	})
}

func TestRegistryLookupAndNames(t *testing.T) {
	var r registry
	if got := r.names(); len(got) != 0 {
		t.Fatalf("names of empty registry = %v", got)
	}
	a, b := &fakeTransport{}, &fakeTransport{}
	r.register("zeta", a)
	r.register("alpha", b)
	if got, want := r.names(), []string{"alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	if got, ok := r.lookup("zeta"); !ok || got != a {
		t.Errorf("lookup(zeta) = %v, %v", got, ok)
	}
	if _, ok := r.lookup("missing"); ok {
		t.Error("lookup(missing) found something")
	}
}

func TestRegisterPanics(t *testing.T) {
	tests := []struct {
		name      string
		regName   string
		transport Transport
		want      string
	}{
		{"empty name", "", &fakeTransport{}, "empty name"},
		{"nil transport", "x", nil, "nil Transport"},
		{"duplicate", "dup", &fakeTransport{}, "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r registry
			r.register("dup", &fakeTransport{})
			defer func() {
				v := recover()
				msg, _ := v.(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic = %v, want one mentioning %q", v, tt.want)
				}
			}()
			r.register(tt.regName, tt.transport)
		})
	}
}

func TestGetErrors(t *testing.T) {
	var empty registry
	_, err := empty.get("")
	if err == nil || !strings.Contains(err.Error(), "no transport is registered") {
		t.Errorf("empty name, empty registry: %v", err)
	}

	var r registry
	r.register(NameH2C, &fakeTransport{})
	r.register(NameHTTP1, &fakeTransport{})

	_, err = r.get("")
	if err == nil || !strings.Contains(err.Error(), `Config.Name is empty (registered: "h2c", "http1")`) {
		t.Errorf("empty name: %v", err)
	}

	_, err = r.get(NameH3)
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("get(h3) = %v, want ErrUnknown", err)
	}
	want := `transport: unknown transport "h3" (registered: "h2c", "http1"); add a blank import of the module that provides it to your main package: import _ "polyconnect.dev/transport-http3"`
	if err.Error() != want {
		t.Errorf("get(h3) error\n got: %s\nwant: %s", err, want)
	}

	// Every name a polyconnect module registers names that module in the
	// error, so the fix is one copy and paste.
	for name, module := range map[string]string{
		"http1":   "polyconnect.dev/transport-nethttp",
		"h2":      "polyconnect.dev/transport-nethttp",
		"h2c-rpc": "polyconnect.dev/transport-h2",
		"h2-rpc":  "polyconnect.dev/transport-h2",
		"h3":      "polyconnect.dev/transport-http3",
	} {
		var one registry
		one.register("other", &fakeTransport{})
		_, err := one.get(name)
		want := `import _ "` + module + `"`
		if !errors.Is(err, ErrUnknown) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("get(%q) = %v, want it to end with %s", name, err, want)
		}
	}

	_, err = r.get("quic-over-carrier-pigeon")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "import the package that registers it") ||
		!strings.Contains(err.Error(), `"h2c-rpc", "h2-rpc" from polyconnect.dev/transport-h2`) {
		t.Errorf("get(custom) = %v", err)
	}
}

func TestPackageFuncsUseRegistry(t *testing.T) {
	emptyDefaultRegistry(t)
	if _, err := NewServer(Config{Name: NameH2}, http.NotFoundHandler()); !errors.Is(err, ErrUnknown) {
		t.Fatalf("NewServer before Register: %v", err)
	}
	if _, err := NewClient(Config{Name: NameH2}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("NewClient before Register: %v", err)
	}

	fake := &fakeTransport{}
	Register(NameH2, fake)
	if got, ok := Lookup(NameH2); !ok || got != fake {
		t.Fatalf("Lookup = %v, %v", got, ok)
	}
	if got := Names(); !slices.Equal(got, []string{NameH2}) {
		t.Fatalf("Names = %v", got)
	}
	cfg := Config{Name: NameH2, Addr: "127.0.0.1:0", MaxHeaderBytes: 4096}
	if _, err := NewServer(cfg, http.NotFoundHandler()); err != nil {
		t.Fatal(err)
	}
	if _, err := NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	if fake.servers != 1 || fake.clients != 1 || fake.lastCfg.MaxHeaderBytes != 4096 {
		t.Errorf("fake transport saw servers=%d clients=%d cfg=%+v", fake.servers, fake.clients, fake.lastCfg)
	}
}
