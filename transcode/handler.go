package transcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"polyconnect.dev/protocol/rpc"
)

// Handler serves the REST/JSON routes of google.api.http annotations. Each
// REST request becomes an in-process Connect call of the method it is bound
// to, sent to the http.Handler given to [New] (the mux the service's RPC
// handler is mounted on), so interceptors, authentication, limits and every
// other part of the RPC handler apply to it as to a call from the network.
//
// A Handler is safe for concurrent use. Mount it beside the RPC handlers,
// typically at "/" of the same mux: requests for the procedures' own paths
// go to the RPC handlers, which the mux finds first, and everything else to
// the Handler. A request no route matches is answered with NOT_FOUND (HTTP
// 404), one whose path matches a route of another HTTP method with 405.
type Handler struct {
	next        http.Handler
	routes      map[string][]*route // by HTTP method, most specific template first
	all         []*route            // in declaration order
	readMax     int64
	compressMin int
	marshal     protojson.MarshalOptions
	json        *jsonEncoder // writes responses as marshal says, planned per message type
	unmarshal   protojson.UnmarshalOptions
	jsonIn      *jsonDecoder // reads the common request bodies, planned per message type
	openapi     struct {
		once sync.Once
		doc  []byte
		err  error
	}
}

// Route describes one HTTP binding of a method.
type Route struct {
	// Method is the HTTP method, such as "GET", or a custom one.
	Method string
	// Pattern is the path template, such as "/v1/{name=shelves/*/books/*}".
	Pattern string
	// Procedure is the RPC's path, "/package.Service/Method".
	Procedure string
	// Body is the request field the body fills: "*" for the whole request,
	// a field name, or "" for none.
	Body string
	// ResponseBody is the response field the body carries, or "" for the
	// whole response.
	ResponseBody string
	// StreamType is the kind of the method.
	StreamType rpc.StreamType
}

// routeKey is the context key of the route of a transcoded call.
type routeKey struct{}

// RouteFromContext returns the REST route a call came in on, when the call
// is one that a [Handler] transcoded: interceptors and handlers see it in
// their context (for instance to name the HTTP route in traces, or to tell a
// REST caller from a Connect one).
func RouteFromContext(ctx context.Context) (Route, bool) {
	if rt, ok := ctx.Value(routeKey{}).(*route); ok {
		return rt.info, true
	}
	return Route{}, false
}

// route is one compiled binding.
type route struct {
	info       Route
	tmpl       *pathTemplate
	vars       []fieldPath // the field each template variable binds, in tmpl.vars order
	input      protoreflect.MessageDescriptor
	output     protoreflect.MessageDescriptor
	inType     protoreflect.MessageType
	outType    protoreflect.MessageType
	hasBody    bool
	bodyAll    bool
	body       protoreflect.FieldDescriptor // the body field, when not "*"
	respField  protoreflect.FieldDescriptor // response_body, or nil
	outPlan    *messagePlan                 // the JSON plan of the response, nil for protojson
	respPlan   *messagePlan                 // that of a response_body message field's type
	bodyPlan   *decodePlan                  // the decoder's plan of the body: the request's, or its body field's
	query      *queryDecoder                // nil when the body is "*"
	patchMask  protoreflect.FieldDescriptor // the FieldMask a PATCH fills, or nil
	rawBodyIn  bool                         // the request, or its body field, is google.api.HttpBody
	rawBodyOut bool                         // the response is google.api.HttpBody
}

const httpBodyName = "google.api.HttpBody"

// New returns a Handler for the google.api.http bindings of the methods of
// services. Its REST requests are sent, as Connect calls, to next: the
// handler (usually the mux) on which the services' RPC handlers are mounted.
// Methods without a binding are left alone.
//
// New reports bindings it cannot serve: a malformed path template, a field
// path that names no field (or a map, or a message field without a string
// form), a body on a GET, two bindings with the same method and template,
// a client- or bidi-streaming binding whose body is not "*" or whose path has
// variables.
//
// The descriptors are those of the generated code, such as
// greetv1.File_greet_v1_greet_proto.Services().ByName("GreetService"); the
// request and response types are looked up in protoregistry.GlobalTypes, so
// the transcoder uses the generated Go types when they are linked in, and
// dynamic messages otherwise.
func New(next http.Handler, services []protoreflect.ServiceDescriptor, opts ...Option) (*Handler, error) {
	if next == nil {
		return nil, errors.New("transcode: next handler is nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	h := &Handler{
		next:        next,
		routes:      make(map[string][]*route),
		readMax:     cfg.readMax,
		compressMin: cfg.compressMin,
		marshal:     cfg.marshal,
		json:        newJSONEncoder(cfg.marshal),
		unmarshal:   cfg.unmarshal,
		jsonIn:      newJSONDecoder(cfg.unmarshal),
	}
	var errs []error
	for _, sd := range services {
		if sd == nil {
			errs = append(errs, errors.New("transcode: nil service descriptor"))
			continue
		}
		methods := sd.Methods()
		for i := range methods.Len() {
			md := methods.Get(i)
			rule, _ := proto.GetExtension(md.Options(), annotations.E_Http).(*annotations.HttpRule)
			if rule == nil {
				continue
			}
			if err := h.add(md, rule, &cfg); err != nil {
				errs = append(errs, err)
			}
			for _, extra := range rule.GetAdditionalBindings() {
				if len(extra.GetAdditionalBindings()) > 0 {
					errs = append(errs, fmt.Errorf("transcode: %s: an additional binding has additional bindings of its own", md.FullName()))
					continue
				}
				if err := h.add(md, extra, &cfg); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for method, rs := range h.routes {
		sort.SliceStable(rs, func(i, j int) bool { return moreSpecific(rs[i].tmpl, rs[j].tmpl) })
		h.routes[method] = rs
	}
	return h, nil
}

// add compiles one binding.
func (h *Handler) add(md protoreflect.MethodDescriptor, rule *annotations.HttpRule, cfg *config) error {
	var method, pattern string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		method, pattern = http.MethodGet, p.Get
	case *annotations.HttpRule_Put:
		method, pattern = http.MethodPut, p.Put
	case *annotations.HttpRule_Post:
		method, pattern = http.MethodPost, p.Post
	case *annotations.HttpRule_Delete:
		method, pattern = http.MethodDelete, p.Delete
	case *annotations.HttpRule_Patch:
		method, pattern = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Custom:
		method, pattern = p.Custom.GetKind(), p.Custom.GetPath()
		if method == "" || strings.ContainsAny(method, " \t/") {
			return fmt.Errorf("transcode: %s: custom binding kind %q is not an HTTP method", md.FullName(), method)
		}
	default:
		return fmt.Errorf("transcode: %s: binding has no pattern", md.FullName())
	}
	where := fmt.Sprintf("transcode: %s: %s %s", md.FullName(), method, pattern)
	procedure := "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
	rt := &route{
		info: Route{
			Method:       method,
			Pattern:      pattern,
			Procedure:    procedure,
			Body:         rule.GetBody(),
			ResponseBody: rule.GetResponseBody(),
		},
		input:  md.Input(),
		output: md.Output(),
	}
	switch {
	case md.IsStreamingClient() && md.IsStreamingServer():
		rt.info.StreamType = rpc.StreamTypeBidi
	case md.IsStreamingClient():
		rt.info.StreamType = rpc.StreamTypeClient
	case md.IsStreamingServer():
		rt.info.StreamType = rpc.StreamTypeServer
	default:
		rt.info.StreamType = rpc.StreamTypeUnary
	}
	rt.inType = messageType(rt.input)
	rt.outType = messageType(rt.output)
	tmpl, err := parseTemplate(pattern)
	if err != nil {
		return fmt.Errorf("transcode: %s: %w", md.FullName(), err)
	}
	rt.tmpl = tmpl
	var bound []fieldPath
	for _, v := range tmpl.vars {
		fp, err := resolveFieldPath(rt.input, v.fieldPath)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := checkBindable(fp[len(fp)-1]); err != nil {
			return fmt.Errorf("%s: variable %q: %w", where, v.fieldPath, err)
		}
		rt.vars = append(rt.vars, fp)
		bound = append(bound, fp)
	}
	switch body := rule.GetBody(); body {
	case "":
	case "*":
		rt.hasBody, rt.bodyAll = true, true
		rt.rawBodyIn = rt.input.FullName() == httpBodyName
	default:
		fd := rt.input.Fields().ByName(protoreflect.Name(body))
		if fd == nil {
			return fmt.Errorf("%s: body %q: %s has no such field", where, body, rt.input.FullName())
		}
		rt.hasBody, rt.body = true, fd
		rt.rawBodyIn = fd.Message() != nil && fd.Message().FullName() == httpBodyName && !fd.IsList()
		bound = append(bound, fieldPath{fd})
	}
	if rt.info.StreamType&rpc.StreamTypeClient != 0 && !rt.bodyAll {
		return fmt.Errorf("%s: the body of a client- or bidi-streaming binding must be \"*\": a stream of request messages", where)
	}
	if rt.info.StreamType&rpc.StreamTypeClient != 0 && len(tmpl.vars) > 0 {
		return fmt.Errorf("%s: a client- or bidi-streaming binding cannot have path variables: each message is the whole request", where)
	}
	if rt.hasBody && (method == http.MethodGet || method == http.MethodHead) {
		return fmt.Errorf("%s: a %s binding cannot have a body", where, method)
	}
	if rb := rule.GetResponseBody(); rb != "" {
		fd := rt.output.Fields().ByName(protoreflect.Name(rb))
		if fd == nil {
			return fmt.Errorf("%s: response_body %q: %s has no such field", where, rb, rt.output.FullName())
		}
		rt.respField = fd
	} else {
		rt.rawBodyOut = rt.output.FullName() == httpBodyName
	}
	rt.outPlan = h.json.plan(rt.outType.Descriptor())
	switch {
	case rt.rawBodyIn:
	case rt.bodyAll:
		rt.bodyPlan = h.jsonIn.plan(rt.inType.Descriptor())
	case rt.body != nil && rt.body.Message() != nil && !rt.body.IsList() && !rt.body.IsMap():
		rt.bodyPlan = h.jsonIn.plan(rt.body.Message())
	}
	if rt.respField != nil && !rt.respField.IsList() && !rt.respField.IsMap() {
		rt.respPlan = h.json.plan(rt.respField.Message())
	}
	if !rt.bodyAll {
		rt.query = newQueryDecoder(rt.input, bound, cfg.strictQuery)
	}
	if cfg.patchMask && method == http.MethodPatch && rt.body != nil && !rt.rawBodyIn {
		rt.patchMask = soleFieldMask(rt.input)
	}
	for _, other := range h.routes[method] {
		if other.tmpl.raw == tmpl.raw {
			return fmt.Errorf("%s: also bound to %s", where, other.info.Procedure)
		}
	}
	h.routes[method] = append(h.routes[method], rt)
	h.all = append(h.all, rt)
	return nil
}

// soleFieldMask returns the request's google.protobuf.FieldMask field when
// it has exactly one.
func soleFieldMask(md protoreflect.MessageDescriptor) protoreflect.FieldDescriptor {
	var found protoreflect.FieldDescriptor
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Message() != nil && fd.Message().FullName() == "google.protobuf.FieldMask" && !fd.IsList() {
			if found != nil {
				return nil
			}
			found = fd
		}
	}
	return found
}

// messageType returns the Go type of a message: the generated one when it is
// linked in, a dynamic one otherwise.
func messageType(md protoreflect.MessageDescriptor) protoreflect.MessageType {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil && mt.Descriptor().FullName() == md.FullName() {
		return mt
	}
	return dynamicpb.NewMessageType(md)
}

// newMessage returns an empty message of md's type.
func newMessage(md protoreflect.MessageDescriptor) protoreflect.Message {
	return messageType(md).New()
}

// Routes returns the routes the handler serves, in the order the
// annotations declare them.
func (h *Handler) Routes() []Route {
	out := make([]Route, len(h.all))
	for i, rt := range h.all {
		out[i] = rt.info
	}
	return out
}

// Methods returns the HTTP methods the routes use, sorted: what a CORS
// policy in front of the handler must allow (cors.WithAllowedMethods).
func (h *Handler) Methods() []string {
	var out []string
	for m := range h.routes {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}

// pathPool holds requestPaths, whose slices are reused from request to
// request.
var pathPool = sync.Pool{New: func() any { return new(requestPath) }}

// putPath returns a requestPath to the pool, keeping no request's path
// alive there.
func putPath(p *requestPath) {
	clear(p.segs)
	p.raw = ""
	pathPool.Put(p)
}

// ServeHTTP serves one REST request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt, ok := r.Context().Value(routeKey{}).(*route); ok {
		// A call this handler made came back to it: next does not serve
		// the procedure, and routed it here. Answer it as a Connect handler
		// would, for the transcoder waiting on the other end.
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusNotFound)
		msg, _ := json.Marshal("procedure " + rt.info.Procedure + " is not served by the handler given to transcode.New")
		_, _ = w.Write([]byte(`{"code":"unimplemented","message":` + string(msg) + `}`))
		return
	}
	p := pathPool.Get().(*requestPath)
	defer putPath(p)
	if !p.split(r.URL.EscapedPath()) {
		h.writeStatus(w, newStatus(rpc.CodeNotFound, http.StatusText(http.StatusNotFound)))
		return
	}
	var valsBuf [8]string
	for _, rt := range h.routes[r.Method] {
		if vals, ok := rt.tmpl.match(p, valsBuf[:0]); ok {
			switch rt.info.StreamType {
			case rpc.StreamTypeUnary:
				h.serveUnary(w, r, rt, vals)
			case rpc.StreamTypeServer:
				h.serveStream(w, r, rt, vals)
			default:
				h.serveClientStream(w, r, rt)
			}
			return
		}
	}
	var allow []string
	for method, rs := range h.routes {
		if method == r.Method {
			continue
		}
		for _, rt := range rs {
			if _, ok := rt.tmpl.match(p, valsBuf[:0]); ok {
				allow = append(allow, method)
				break
			}
		}
	}
	if len(allow) > 0 {
		slices.Sort(allow)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		h.writeStatusHTTP(w, newStatus(rpc.CodeUnimplemented, http.StatusText(http.StatusMethodNotAllowed)), http.StatusMethodNotAllowed)
		return
	}
	h.writeStatus(w, newStatus(rpc.CodeNotFound, http.StatusText(http.StatusNotFound)))
}
