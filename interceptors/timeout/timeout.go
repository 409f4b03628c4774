// Package timeout gives calls a default deadline and caps their deadlines,
// for all procedures or per procedure or service, on clients and handlers.
//
//	limits := timeout.Limits{Default: 5 * time.Second, Max: 30 * time.Second}
//	rpc.WithHandlerInterceptors(timeout.New(limits,
//		timeout.ForService("report.v1.ReportService", timeout.Limits{Default: time.Minute, Max: 10 * time.Minute}),
//	))
//
// On a client the deadline travels to the server in the protocol's timeout
// header (Connect-Timeout-Ms, grpc-timeout), as any context deadline does. On
// a handler it bounds the handler's context, whatever the client asked for: a
// client cannot hold a server's handler past its Max. A handler that
// succeeds after the deadline its interceptor set reports DEADLINE_EXCEEDED,
// as rpc does for the client's own deadline.
package timeout

import (
	"context"
	"errors"
	"time"

	"polyconnect.dev/interceptors/selector"
	"polyconnect.dev/protocol/rpc"
)

// Limits are the deadlines of a call.
type Limits struct {
	// Default is the timeout of a call that has no deadline; 0 leaves it
	// without one.
	Default time.Duration
	// Max caps the time a call may take from the moment it reaches the
	// interceptor: a later deadline, or none, is brought forward. 0 means
	// no cap. A Default above Max is lowered to Max.
	Max time.Duration
}

// Option configures the interceptor.
type Option interface{ apply(*config) }

type config struct {
	all         Limits
	procedures  map[string]Limits
	services    map[string]Limits
	hasSpecific bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// ForProcedure sets the limits of one procedure, named in full
// ("/greet.v1.GreetService/Greet"). They replace the limits given to New and
// to ForService for it.
func ForProcedure(procedure string, l Limits) Option {
	return optionFunc(func(c *config) { c.procedures[procedure] = l })
}

// ForService sets the limits of every procedure of a service
// ("greet.v1.GreetService"). They replace the limits given to New for it.
func ForService(service string, l Limits) Option {
	return optionFunc(func(c *config) { c.services[service] = l })
}

// New returns an interceptor that applies limits to every call, except
// those with limits of their own from ForProcedure or ForService.
func New(limits Limits, opts ...Option) *Interceptor {
	c := &config{all: limits, procedures: map[string]Limits{}, services: map[string]Limits{}}
	for _, o := range opts {
		o.apply(c)
	}
	c.hasSpecific = len(c.procedures) > 0 || len(c.services) > 0
	return &Interceptor{cfg: c}
}

// Interceptor sets deadlines. It is an rpc.ClientInterceptor and an
// rpc.HandlerInterceptor. It is safe for concurrent use.
type Interceptor struct{ cfg *config }

func (c *config) limits(procedure string) Limits {
	if !c.hasSpecific {
		return c.all
	}
	if l, ok := c.procedures[procedure]; ok {
		return l
	}
	if l, ok := c.services[selector.ServiceOf(procedure)]; ok {
		return l
	}
	return c.all
}

// none reports whether l sets no deadline at all.
func (l Limits) none() bool { return l.Default <= 0 && l.Max <= 0 }

// deadline returns the deadline l sets for a call in ctx, and whether it
// changes the call's deadline.
func (l Limits) deadline(ctx context.Context) (time.Time, bool) {
	if l.none() {
		return time.Time{}, false
	}
	now := time.Now()
	current, has := ctx.Deadline()
	if l.Max > 0 {
		limit := now.Add(l.Max)
		if !has || current.After(limit) {
			if !has && l.Default > 0 && l.Default < l.Max {
				return now.Add(l.Default), true
			}
			return limit, true
		}
		return time.Time{}, false
	}
	if !has {
		return now.Add(l.Default), true
	}
	return time.Time{}, false
}

// late fixes the outcome of a call that ran under a deadline set here: a
// success or an unclassified error after the deadline is DEADLINE_EXCEEDED
// (the context's error, which rpc sends with that code).
func late(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	if err == nil || rpc.CodeOf(err) == rpc.CodeUnknown {
		return ctx.Err()
	}
	return err
}
