package e2e_test

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"polyconnect.dev/protocol/transport/balance"
)

// dnsServer is a minimal authoritative DNS server on loopback UDP: it
// answers A queries for one name with a list the test changes, and
// NXDOMAIN for every other name.
type dnsServer struct {
	name    string // fully qualified, lower case: "svc.test."
	conn    net.PacketConn
	queries atomic.Int64

	mu  sync.Mutex
	ips []netip.Addr
}

func newDNSServer(t *testing.T, name string) *dnsServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dnsServer{name: name, conn: conn}
	var wg sync.WaitGroup
	wg.Go(d.serve)
	t.Cleanup(func() { conn.Close(); wg.Wait() })
	return d
}

func (d *dnsServer) set(ips ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ips = d.ips[:0]
	for _, ip := range ips {
		d.ips = append(d.ips, netip.MustParseAddr(ip))
	}
}

// resolver returns a *net.Resolver that asks only this server.
func (d *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

func (d *dnsServer) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := d.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if res := d.answer(buf[:n]); res != nil {
			_, _ = d.conn.WriteTo(res, from)
		}
	}
}

// answer builds the response to one query, or nil for a malformed one.
func (d *dnsServer) answer(q []byte) []byte {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil
	}
	// The question: labels, then type and class.
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, ".")) + "."
	d.queries.Add(1)

	res := make([]byte, 12, 512)
	copy(res, q[:2])                            // ID
	binary.BigEndian.PutUint16(res[2:], 0x8580) // response, authoritative, recursion desired and available
	binary.BigEndian.PutUint16(res[4:], 1)      // one question
	res = append(res, question...)
	if name != d.name {
		res[3] |= 3 // NXDOMAIN
		return res
	}
	if qtype != 1 { // no AAAA (or other) records: an empty answer
		return res
	}
	d.mu.Lock()
	ips := append([]netip.Addr(nil), d.ips...)
	d.mu.Unlock()
	binary.BigEndian.PutUint16(res[6:], uint16(len(ips)))
	for _, ip := range ips {
		a4 := ip.As4()
		res = append(res, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4) // name pointer, A, IN, TTL 0, length 4
		res = append(res, a4[:]...)
	}
	return res
}

// replicasOnOnePort starts a replica on each of hosts, all on one port, as
// DNS-resolved replicas are.
func replicasOnOnePort(t *testing.T, hosts ...string) []*replica {
	t.Helper()
	for attempt := 0; ; attempt++ {
		first := newReplica(t, hosts[0], "0", echo)
		_, port, _ := net.SplitHostPort(first.addr)
		rs := []*replica{first}
		ok := true
		for _, h := range hosts[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(h, port))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
			rs = append(rs, newReplica(t, h, port, echo))
		}
		if ok {
			return rs
		}
		for _, r := range rs {
			r.kill()
		}
		if attempt == 20 {
			t.Fatal("no port free on every loopback address")
		}
	}
}

func TestDNSReResolution(t *testing.T) {
	rs := replicasOnOnePort(t, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	_, port, _ := net.SplitHostPort(rs[0].addr)
	dns := newDNSServer(t, "svc.test.")
	dns.set("127.0.0.1", "127.0.0.2")
	target := net.JoinHostPort("svc.test", port)
	c, err := balance.New(target, balance.DNS(target, dns.resolver()), backendFor("h2c"),
		balance.WithResolveInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
	}
	if rs[0].hits.Load() == 0 || rs[1].hits.Load() == 0 || rs[2].hits.Load() != 0 {
		t.Fatalf("first answer: hits %d %d %d, want both of the first two, not the third", rs[0].hits.Load(), rs[1].hits.Load(), rs[2].hits.Load())
	}

	dns.set("127.0.0.3")
	// Re-resolution happens within a call or two after 20 ms; allow far
	// more on a loaded machine.
	deadline := time.Now().Add(20 * time.Second)
	for rs[2].hits.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the new address was never used (addrs %v)", c.Addrs())
		}
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	base0, base1 := rs[0].hits.Load(), rs[1].hits.Load()
	for range 10 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatal(err)
		}
	}
	if rs[0].hits.Load() != base0 || rs[1].hits.Load() != base1 {
		t.Errorf("removed replicas still got requests")
	}
	if got := c.Addrs(); len(got) != 1 || got[0] != rs[2].addr {
		t.Errorf("Addrs = %v, want [%s]", got, rs[2].addr)
	}

	// A failing lookup keeps the last good answer.
	dns.set()
	before := dns.queries.Load()
	for dns.queries.Load() == before {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatalf("call after an empty answer: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 5 {
		if _, err := get(t.Context(), c, target, ""); err != nil {
			t.Fatalf("call after an empty answer: %v", err)
		}
	}
	c.CloseIdleConnections()
	checkNoBalanceGoroutines(t)
}

func TestDNSFirstLookupFails(t *testing.T) {
	r := newReplica(t, "127.0.0.1", "0", echo)
	_, port, _ := net.SplitHostPort(r.addr)
	dns := newDNSServer(t, "svc.test.")
	target := net.JoinHostPort("svc.test", port)
	c, err := balance.New(target, balance.DNS(target, dns.resolver()), backendFor("h2c"),
		balance.WithResolveInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := get(t.Context(), c, target, ""); err == nil || !strings.Contains(err.Error(), "no replica addresses") {
		t.Fatalf("call with nothing resolved: err = %v", err)
	}
	dns.set("127.0.0.1")
	// Failed lookups are retried at most once a second.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := get(t.Context(), c, target, "")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never resolved: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDNSLiteralAndBadTarget(t *testing.T) {
	addrs, err := balance.DNS("127.0.0.1:80", nil).Resolve(t.Context())
	if err != nil || len(addrs) != 1 || addrs[0] != "127.0.0.1:80" {
		t.Errorf("literal: %v, %v", addrs, err)
	}
	addrs, err = balance.DNS("[::1]:80", nil).Resolve(t.Context())
	if err != nil || len(addrs) != 1 || addrs[0] != "[::1]:80" {
		t.Errorf("IPv6 literal: %v, %v", addrs, err)
	}
	if _, err := balance.DNS("no-port", nil).Resolve(t.Context()); err == nil {
		t.Error("target without a port resolved")
	}
}
