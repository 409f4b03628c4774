package balance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// Resolver turns a client's target into the addresses ("host:port") of its
// replicas. Resolve is called with a context that bounds the lookup; it
// must be safe for concurrent use, though a Client never runs two lookups
// at once.
type Resolver interface {
	Resolve(ctx context.Context) ([]string, error)
}

// Static returns a Resolver for a fixed list of addresses. A Client with a
// static resolver knows its replicas from the start and never looks again.
func Static(addrs ...string) Resolver {
	return staticResolver(slices.Clone(addrs))
}

type staticResolver []string

func (s staticResolver) Resolve(context.Context) ([]string, error) {
	if len(s) == 0 {
		return nil, errors.New("balance: empty static address list")
	}
	return slices.Clone(s), nil
}

// DNS returns a Resolver that looks up the host of target ("host:port")
// with r (net.DefaultResolver if nil) and answers one address per IP, with
// target's port. A host that is an IP literal resolves to itself.
func DNS(target string, r *net.Resolver) Resolver {
	if r == nil {
		r = net.DefaultResolver
	}
	return &dnsResolver{target: target, r: r}
}

type dnsResolver struct {
	target string
	r      *net.Resolver
}

func (d *dnsResolver) Resolve(ctx context.Context) ([]string, error) {
	host, port, err := net.SplitHostPort(d.target)
	if err != nil {
		return nil, fmt.Errorf("balance: DNS target %q: %w", d.target, err)
	}
	ips, err := d.r.LookupHost(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("balance: resolve %s: %w", host, err)
	}
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		// Zones come back as "fe80::1%eth0"; JoinHostPort brackets them.
		addrs = append(addrs, net.JoinHostPort(strings.TrimSpace(ip), port))
	}
	slices.Sort(addrs)
	return slices.Compact(addrs), nil
}
