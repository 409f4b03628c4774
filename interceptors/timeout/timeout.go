// Package timeout gives calls a default deadline and caps their deadlines,
// for all procedures or per procedure or service, on clients and handlers.
//
//	limits := timeout.Limits{Default: 5 * time.Second, Max: 30 * time.Second}
//	rpc.WithInterceptors(timeout.New(limits,
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

	"polyconnect.dev/interceptors/internal/callx"
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
func New(limits Limits, opts ...Option) rpc.Interceptor {
	c := &config{all: limits, procedures: map[string]Limits{}, services: map[string]Limits{}}
	for _, o := range opts {
		o.apply(c)
	}
	c.hasSpecific = len(c.procedures) > 0 || len(c.services) > 0
	return &interceptor{cfg: c}
}

type interceptor struct{ cfg *config }

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

// deadline returns the deadline l sets for a call in ctx, and whether it
// changes the call's deadline.
func (l Limits) deadline(ctx context.Context) (time.Time, bool) {
	if l.Default <= 0 && l.Max <= 0 {
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
// success or an unclassified error after the deadline is DEADLINE_EXCEEDED.
func late(ctx context.Context, err error) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	if err == nil || rpc.CodeOf(err) == rpc.CodeUnknown {
		return callx.ContextError(ctx)
	}
	return err
}

func (i *interceptor) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	return func(ctx context.Context, req any) (any, error) {
		info, ok := rpc.CallInfoFromContext(ctx)
		if !ok {
			return next(ctx, req)
		}
		d, ok := i.cfg.limits(info.Procedure()).deadline(ctx)
		if !ok {
			return next(ctx, req)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		defer cancel()
		res, err := next(ctx, req)
		if info.IsClient() {
			return res, err
		}
		if err = late(ctx, err); err != nil {
			return nil, err
		}
		return res, nil
	}
}

func (i *interceptor) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		d, ok := i.cfg.limits(spec.Procedure).deadline(ctx)
		if !ok {
			return next(ctx, spec)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		return &clientConn{StreamingClientConn: next(ctx, spec), cancel: cancel}
	}
}

func (i *interceptor) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		d, ok := i.cfg.limits(conn.Spec().Procedure).deadline(ctx)
		if !ok {
			return next(ctx, conn)
		}
		ctx, cancel := context.WithDeadline(ctx, d)
		defer cancel()
		return late(ctx, next(ctx, conn))
	}
}

// clientConn releases the deadline's timer when the stream ends.
type clientConn struct {
	rpc.StreamingClientConn
	cancel context.CancelFunc
}

func (c *clientConn) Receive(msg any) error {
	err := c.StreamingClientConn.Receive(msg)
	if err != nil {
		// The call is over (io.EOF or its status): nothing needs the
		// context any more.
		c.cancel()
	}
	return err
}

func (c *clientConn) CloseResponse() error {
	err := c.StreamingClientConn.CloseResponse()
	c.cancel()
	return err
}
