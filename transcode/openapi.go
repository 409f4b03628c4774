package transcode

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"polyconnect.dev/protocol/rpc"
)

// OpenAPI returns an OpenAPI 3.0 document (JSON) describing the handler's
// routes: one operation a binding, its path and query parameters, request
// body and response, with a schema for every message the JSON mapping
// carries (in the handler's marshal options' field names), and errors as
// google.rpc.Status. The document is built once, from the same descriptors
// as the routes, so it always matches what the handler serves.
func (h *Handler) OpenAPI() ([]byte, error) {
	h.openapi.once.Do(func() {
		h.openapi.doc, h.openapi.err = json.MarshalIndent(h.openAPIDocument(), "", "  ")
	})
	return h.openapi.doc, h.openapi.err
}

// OpenAPIHandler returns an http.Handler that serves [Handler.OpenAPI]'s
// document, for instance at "/openapi.json".
func (h *Handler) OpenAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc, err := h.OpenAPI()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
}

type object = map[string]any

// openAPIBuilder accumulates the schemas the operations refer to.
type openAPIBuilder struct {
	h       *Handler
	schemas object
}

func (h *Handler) openAPIDocument() object {
	b := &openAPIBuilder{h: h, schemas: object{}}
	paths := object{}
	keys := map[string]string{} // a path with its parameters' names blanked → the key used
	ids := map[string]int{}     // bindings of each method so far
	var services []string
	seen := map[string]bool{}
	for _, rt := range h.all {
		svc := strings.Split(strings.TrimPrefix(rt.info.Procedure, "/"), "/")[0]
		if !seen[svc] {
			seen[svc] = true
			services = append(services, svc)
		}
		p := rt.tmpl.openAPIPath()
		op := b.operation(rt, svc)
		// Operation ids: the method's full name, then _2, _3, ... for its
		// additional bindings.
		id := strings.ReplaceAll(strings.TrimPrefix(rt.info.Procedure, "/"), "/", ".")
		if ids[id]++; ids[id] > 1 {
			id += "_" + strconv.Itoa(ids[id])
		}
		op["operationId"] = id
		// OpenAPI treats paths that differ only in their parameters' names
		// as one ("/v1/{name}" and "/v1/{book.name}"): the second route
		// joins the first's path, its parameters renamed to the path's
		// (their descriptions still name the field each one binds).
		norm := blankParams(p)
		if key, ok := keys[norm]; ok {
			renameParams(op, paramNames(key))
			p = key
		}
		keys[norm] = p
		item, _ := paths[p].(object)
		if item == nil {
			item = object{}
			paths[p] = item
		}
		method := strings.ToLower(rt.info.Method)
		switch method {
		case "get", "put", "post", "delete", "patch", "head", "options", "trace":
		default:
			// OpenAPI has no custom methods: such a binding is listed as an
			// extension of its path.
			method = "x-method-" + method
		}
		if _, dup := item[method]; dup {
			// Two templates of one method render the same (their variables'
			// patterns differ), which OpenAPI cannot tell apart: the second
			// is listed in an extension of the path.
			extra, _ := item["x-overlapping-operations"].([]any)
			op["x-method"] = rt.info.Method
			op["x-pattern"] = rt.info.Pattern
			item["x-overlapping-operations"] = append(extra, op)
			continue
		}
		item[method] = op
	}
	b.schemas["google.rpc.Status"] = object{
		"type":        "object",
		"description": "The error of a failed call: its gRPC status code, a message for developers, and details.",
		"properties": object{
			"code":    object{"type": "integer", "format": "int32"},
			"message": object{"type": "string"},
			"details": object{"type": "array", "items": object{"$ref": "#/components/schemas/google.protobuf.Any"}},
		},
	}
	b.wellKnown("google.protobuf.Any")
	sort.Strings(services)
	return object{
		"openapi": "3.0.3",
		"info": object{
			"title":   strings.Join(services, ", "),
			"version": "1",
		},
		"paths":      paths,
		"components": object{"schemas": b.schemas},
	}
}

func (b *openAPIBuilder) operation(rt *route, service string) object {
	op := object{"tags": []string{service}}
	params := []any{}
	for i, v := range rt.tmpl.vars {
		fd := rt.vars[i][len(rt.vars[i])-1]
		schema := b.fieldSchema(fd)
		desc := "The request field " + v.fieldPath + "."
		if v.multi(rt.tmpl) || v.end-v.start > 1 || rt.tmpl.segs[v.start].kind != segSingle {
			schema = object{"type": "string"}
			desc += " It spans several path segments: " + segmentsPattern(rt.tmpl, v) + "."
		}
		params = append(params, object{"name": v.fieldPath, "in": "path", "required": true, "schema": schema, "description": desc})
	}
	if rt.query != nil {
		b.queryParams(rt.input, "", rt.query, nil, &params, 0)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.hasBody {
		var content object
		switch {
		case rt.rawBodyIn:
			content = object{"*/*": object{"schema": object{"type": "string", "format": "binary"}}}
		case rt.info.StreamType&rpc.StreamTypeClient != 0:
			content = object{"application/x-ndjson": object{
				"schema":        b.ref(rt.input),
				"x-description": "A stream: newline-delimited JSON, one request message a line.",
			}}
		case rt.bodyAll:
			content = object{"application/json": object{"schema": b.ref(rt.input)}}
		default:
			content = object{"application/json": object{"schema": b.fieldSchema(rt.body)}}
		}
		op["requestBody"] = object{"required": false, "content": content}
	}
	var result any
	switch {
	case rt.rawBodyOut:
		result = nil
	case rt.respField != nil:
		result = b.fieldSchema(rt.respField)
	default:
		result = b.ref(rt.output)
	}
	ok := object{"description": "The response."}
	switch {
	case rt.info.StreamType&rpc.StreamTypeServer != 0 && rt.rawBodyOut:
		ok["description"] = "The raw bytes of each message of the stream, one after the other."
		ok["content"] = object{"*/*": object{"schema": object{"type": "string", "format": "binary"}}}
	case rt.info.StreamType&rpc.StreamTypeServer != 0:
		ok["description"] = "A stream: newline-delimited JSON, one {\"result\": …} object a message, and an {\"error\": …} object if the call fails after it has started."
		ok["content"] = object{"application/x-ndjson": object{"schema": object{
			"type": "object",
			"properties": object{
				"result": result,
				"error":  object{"$ref": "#/components/schemas/google.rpc.Status"},
			},
		}}}
	case rt.rawBodyOut:
		ok["content"] = object{"*/*": object{"schema": object{"type": "string", "format": "binary"}}}
	default:
		ok["content"] = object{"application/json": object{"schema": result}}
	}
	op["responses"] = object{
		"200": ok,
		"default": object{
			"description": "An error: google.rpc.Status, with the HTTP status of its code.",
			"content":     object{"application/json": object{"schema": object{"$ref": "#/components/schemas/google.rpc.Status"}}},
		},
	}
	return op
}

// blankParams replaces each {name} of an OpenAPI path with {}.
func blankParams(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i] + "{}")
		p = p[i+j+1:]
	}
}

// paramNames lists the {names} of an OpenAPI path in order.
func paramNames(p string) []string {
	var out []string
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, p[i+1:i+j])
		p = p[i+j+1:]
	}
}

// renameParams gives an operation's path parameters the names of another
// path's, in order.
func renameParams(op object, names []string) {
	params, _ := op["parameters"].([]any)
	n := 0
	for _, p := range params {
		param := p.(object)
		if param["in"] != "path" {
			continue
		}
		if n < len(names) {
			param["name"] = names[n]
		}
		n++
	}
}

// segmentsPattern prints the segments a variable covers.
func segmentsPattern(t *pathTemplate, v variable) string {
	var parts []string
	for _, seg := range t.segs[v.start:v.end] {
		switch seg.kind {
		case segLiteral:
			parts = append(parts, seg.lit)
		case segSingle:
			parts = append(parts, "*")
		case segDeep:
			parts = append(parts, "**")
		}
	}
	return strings.Join(parts, "/")
}

// queryParams lists the fields a query may set: scalars, enums, repeated
// ones and well-known types with a string form, through singular message
// fields, to a depth of a few messages.
func (b *openAPIBuilder) queryParams(md protoreflect.MessageDescriptor, prefix string, q *queryDecoder, path fieldPath, params *[]any, depth int) {
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		p := append(path[:len(path):len(path)], fd)
		if q.isBound(p) || fd.IsMap() {
			continue
		}
		name := prefix + b.jsonName(fd)
		if sub := fd.Message(); sub != nil && !isScalarMessage(sub.FullName()) {
			if !fd.IsList() && depth < 3 && sub.FullName() != md.FullName() {
				b.queryParams(sub, name+".", q, p, params, depth+1)
			}
			continue
		}
		*params = append(*params, object{"name": name, "in": "query", "required": false, "schema": b.fieldSchema(fd)})
	}
}

func (b *openAPIBuilder) jsonName(fd protoreflect.FieldDescriptor) string {
	if b.h.marshal.UseProtoNames {
		return string(fd.Name())
	}
	return fd.JSONName()
}

// ref returns a reference to a message's schema, adding the schema.
func (b *openAPIBuilder) ref(md protoreflect.MessageDescriptor) object {
	name := string(md.FullName())
	if _, ok := b.schemas[name]; !ok {
		if strings.HasPrefix(name, "google.protobuf.") {
			b.wellKnown(name)
		} else {
			b.schemas[name] = object{} // placeholder: breaks recursion
			b.schemas[name] = b.messageSchema(md)
		}
	}
	return object{"$ref": "#/components/schemas/" + name}
}

func (b *openAPIBuilder) messageSchema(md protoreflect.MessageDescriptor) object {
	props := object{}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		props[b.jsonName(fd)] = b.fieldSchema(fd)
	}
	return object{"type": "object", "properties": props}
}

// fieldSchema is the schema of a field's JSON value.
func (b *openAPIBuilder) fieldSchema(fd protoreflect.FieldDescriptor) object {
	if fd.IsMap() {
		return object{"type": "object", "additionalProperties": b.valueSchema(fd.MapValue())}
	}
	if fd.IsList() {
		return object{"type": "array", "items": b.valueSchema(fd)}
	}
	v := b.valueSchema(fd)
	switch {
	case fd.Message() != nil:
		// An unset message field is null (with EmitUnpopulated, the
		// default); OpenAPI 3.0 ignores nullable beside a $ref, hence allOf.
		return object{"allOf": []any{v}, "nullable": true}
	case fd.HasPresence():
		v["nullable"] = true
	}
	return v
}

// valueSchema is the schema of one value of a field, as the proto3 JSON
// mapping writes it.
func (b *openAPIBuilder) valueSchema(fd protoreflect.FieldDescriptor) object {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return object{"type": "string"}
	case protoreflect.BytesKind:
		return object{"type": "string", "format": "byte"}
	case protoreflect.BoolKind:
		return object{"type": "boolean"}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return object{"type": "integer", "format": "int32"}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return object{"type": "integer", "format": "int64", "minimum": 0, "maximum": 4294967295}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return object{"type": "string", "format": "int64"}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return object{"type": "string", "format": "uint64"}
	case protoreflect.FloatKind:
		return object{"type": "number", "format": "float"}
	case protoreflect.DoubleKind:
		return object{"type": "number", "format": "double"}
	case protoreflect.EnumKind:
		if fd.Enum().FullName() == "google.protobuf.NullValue" {
			return object{"nullable": true}
		}
		values := fd.Enum().Values()
		names := make([]string, values.Len())
		for i := range values.Len() {
			names[i] = string(values.Get(i).Name())
		}
		return object{"type": "string", "enum": names}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return b.ref(fd.Message())
	}
	return object{}
}

// wellKnown adds the schema of a google.protobuf type, which the JSON
// mapping writes in its own form.
func (b *openAPIBuilder) wellKnown(name string) {
	var s object
	switch name {
	case "google.protobuf.Timestamp":
		s = object{"type": "string", "format": "date-time"}
	case "google.protobuf.Duration":
		s = object{"type": "string", "description": "Seconds with up to nine fractional digits, suffixed with s, such as \"3.5s\"."}
	case "google.protobuf.FieldMask":
		s = object{"type": "string", "description": "Comma-separated field paths in lowerCamelCase."}
	case "google.protobuf.Struct":
		s = object{"type": "object", "additionalProperties": true}
	case "google.protobuf.Value":
		s = object{"description": "Any JSON value."}
	case "google.protobuf.ListValue":
		s = object{"type": "array", "items": object{}}
	case "google.protobuf.Empty":
		s = object{"type": "object"}
	case "google.protobuf.Any":
		s = object{
			"type":                 "object",
			"properties":           object{"@type": object{"type": "string"}},
			"additionalProperties": true,
		}
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue":
		s = object{"type": "number", "nullable": true}
	case "google.protobuf.Int64Value", "google.protobuf.UInt64Value":
		s = object{"type": "string", "format": "int64", "nullable": true}
	case "google.protobuf.Int32Value", "google.protobuf.UInt32Value":
		s = object{"type": "integer", "nullable": true}
	case "google.protobuf.BoolValue":
		s = object{"type": "boolean", "nullable": true}
	case "google.protobuf.StringValue":
		s = object{"type": "string", "nullable": true}
	case "google.protobuf.BytesValue":
		s = object{"type": "string", "format": "byte", "nullable": true}
	default:
		s = object{"type": "object"}
	}
	b.schemas[name] = s
}
