// Package selector applies an interceptor to some procedures only: by full
// procedure name, by service, by prefix, or by any function of the
// procedure's [rpc.Spec].
//
//	// Every procedure needs credentials except the health checks.
//	rpc.WithHandlerInterceptors(selector.Unless(selector.Services("grpc.health.v1.Health"), authn))
//
// The choice is made once per procedure, from its Spec, when a client or a
// handler builds its interceptor chains: a procedure that is not selected
// goes straight to the next interceptor, at no cost per call. It works on
// clients and handlers alike, for unary calls and streams.
package selector

import (
	"fmt"
	"strings"

	"polyconnect.dev/protocol/rpc"
)

// Matcher reports whether a procedure is selected. It runs once per client
// or handler, when it is built; it must be safe for concurrent use.
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

// Interceptor applies an interceptor to the procedures its matcher selects.
// It is an rpc.ClientInterceptor and an rpc.HandlerInterceptor: on a side
// the wrapped interceptor does not implement, calls pass through it
// unchanged.
type Interceptor struct {
	match   Matcher
	client  rpc.ClientInterceptor  // nil if ic is not one
	handler rpc.HandlerInterceptor // nil if ic is not one
}

// If returns an interceptor that runs ic for the procedures m matches and
// leaves the others alone. ic is an rpc.ClientInterceptor, an
// rpc.HandlerInterceptor, or both (as logging's and otel's are); If panics
// if it is neither, a mistake that shows as soon as the program starts.
func If(m Matcher, ic any) *Interceptor {
	s := &Interceptor{match: m}
	s.client, _ = ic.(rpc.ClientInterceptor)
	s.handler, _ = ic.(rpc.HandlerInterceptor)
	if s.client == nil && s.handler == nil {
		panic(fmt.Sprintf("selector: %T is neither an rpc.ClientInterceptor nor an rpc.HandlerInterceptor", ic))
	}
	return s
}

// Unless returns an interceptor that runs ic for every procedure except
// those m matches.
func Unless(m Matcher, ic any) *Interceptor { return If(Not(m), ic) }

// WrapClientUnary implements rpc.ClientInterceptor.
func (s *Interceptor) WrapClientUnary(spec rpc.Spec, next rpc.ClientUnaryFunc) rpc.ClientUnaryFunc {
	if s.client == nil || !s.match(spec) {
		return next
	}
	return s.client.WrapClientUnary(spec, next)
}

// WrapClientStream implements rpc.ClientInterceptor.
func (s *Interceptor) WrapClientStream(spec rpc.Spec, next rpc.ClientStreamFunc) rpc.ClientStreamFunc {
	if s.client == nil || !s.match(spec) {
		return next
	}
	return s.client.WrapClientStream(spec, next)
}

// WrapHandlerCall implements rpc.HandlerInterceptor.
func (s *Interceptor) WrapHandlerCall(spec rpc.Spec, next rpc.HandlerCallFunc) rpc.HandlerCallFunc {
	if s.handler == nil || !s.match(spec) {
		return next
	}
	return s.handler.WrapHandlerCall(spec, next)
}

// WrapHandlerUnary implements rpc.HandlerInterceptor.
func (s *Interceptor) WrapHandlerUnary(spec rpc.Spec, next rpc.HandlerUnaryFunc) rpc.HandlerUnaryFunc {
	if s.handler == nil || !s.match(spec) {
		return next
	}
	return s.handler.WrapHandlerUnary(spec, next)
}
