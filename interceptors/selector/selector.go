// Package selector applies an interceptor to some procedures only: by full
// procedure name, by service, by prefix, or by any function of the
// procedure's [rpc.Spec].
//
//	// Every procedure needs credentials except the health checks.
//	rpc.WithInterceptors(selector.Unless(selector.Services("grpc.health.v1.Health"), authn))
//
// The choice is made per call, from the call's Spec, on clients and handlers
// alike, for unary calls and streams.
package selector

import (
	"context"
	"strings"

	"polyconnect.dev/protocol/rpc"
)

// Matcher reports whether a procedure is selected. It must be safe for
// concurrent use and cheap: it runs once per call.
type Matcher func(spec rpc.Spec) bool

// Procedures matches the procedures named in full, such as
// "/greet.v1.GreetService/Greet".
func Procedures(procedures ...string) Matcher {
	set := make(map[string]struct{}, len(procedures))
	for _, p := range procedures {
		set[p] = struct{}{}
	}
	return func(spec rpc.Spec) bool {
		_, ok := set[spec.Procedure]
		return ok
	}
}

// Services matches every procedure of the services named in full, such as
// "grpc.health.v1.Health" (a leading "/" is allowed).
func Services(services ...string) Matcher {
	set := make(map[string]struct{}, len(services))
	for _, s := range services {
		set[strings.TrimPrefix(s, "/")] = struct{}{}
	}
	return func(spec rpc.Spec) bool {
		_, ok := set[ServiceOf(spec.Procedure)]
		return ok
	}
}

// Prefix matches the procedures that start with one of the prefixes, such as
// "/grpc." for every service whose package starts with grpc.
func Prefix(prefixes ...string) Matcher {
	return func(spec rpc.Spec) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(spec.Procedure, p) {
				return true
			}
		}
		return false
	}
}

// Not matches what m does not.
func Not(m Matcher) Matcher { return func(spec rpc.Spec) bool { return !m(spec) } }

// Any matches what at least one of ms matches.
func Any(ms ...Matcher) Matcher {
	return func(spec rpc.Spec) bool {
		for _, m := range ms {
			if m(spec) {
				return true
			}
		}
		return false
	}
}

// All matches what every one of ms matches.
func All(ms ...Matcher) Matcher {
	return func(spec rpc.Spec) bool {
		for _, m := range ms {
			if !m(spec) {
				return false
			}
		}
		return true
	}
}

// ServiceOf returns the service of a procedure, "greet.v1.GreetService" for
// "/greet.v1.GreetService/Greet", or "" if procedure has no service part.
func ServiceOf(procedure string) string {
	procedure = strings.TrimPrefix(procedure, "/")
	i := strings.LastIndexByte(procedure, '/')
	if i < 0 {
		return ""
	}
	return procedure[:i]
}

// If returns an interceptor that runs ic for the procedures m matches and
// goes straight to the next step for the others. A unary call without call
// info in its context (which rpc always provides) is treated as selected, so
// a security check is never skipped by accident.
func If(m Matcher, ic rpc.Interceptor) rpc.Interceptor { return &selected{match: m, ic: ic} }

// Unless returns an interceptor that runs ic for every procedure except
// those m matches.
func Unless(m Matcher, ic rpc.Interceptor) rpc.Interceptor { return If(Not(m), ic) }

type selected struct {
	match Matcher
	ic    rpc.Interceptor
}

// Gate implements rpc.HandlerGate: the selected interceptor's own gate, if
// it has one, runs for the procedures m matches.
func (s *selected) Gate(ctx context.Context) (context.Context, error) {
	g, ok := s.ic.(rpc.HandlerGate)
	if !ok {
		return ctx, nil
	}
	if info, ok := rpc.CallInfoFromContext(ctx); ok && !s.match(info.Spec()) {
		return ctx, nil
	}
	return g.Gate(ctx)
}

func (s *selected) WrapUnary(next rpc.UnaryFunc) rpc.UnaryFunc {
	wrapped := s.ic.WrapUnary(next)
	return func(ctx context.Context, req any) (any, error) {
		if info, ok := rpc.CallInfoFromContext(ctx); ok && !s.match(info.Spec()) {
			return next(ctx, req)
		}
		return wrapped(ctx, req)
	}
}

func (s *selected) WrapStreamingClient(next rpc.StreamingClientFunc) rpc.StreamingClientFunc {
	wrapped := s.ic.WrapStreamingClient(next)
	return func(ctx context.Context, spec rpc.Spec) rpc.StreamingClientConn {
		if s.match(spec) {
			return wrapped(ctx, spec)
		}
		return next(ctx, spec)
	}
}

func (s *selected) WrapStreamingHandler(next rpc.StreamingHandlerFunc) rpc.StreamingHandlerFunc {
	wrapped := s.ic.WrapStreamingHandler(next)
	return func(ctx context.Context, conn rpc.StreamingHandlerConn) error {
		if s.match(conn.Spec()) {
			return wrapped(ctx, conn)
		}
		return next(ctx, conn)
	}
}
