package transcode_test

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"polyconnect.dev/transcode"
)

// serviceWith builds, at run time, a service with one method per rule, on
// the message
//
//	message Req { string name = 1; int32 n = 2; repeated string tags = 3;
//	              map<string,string> m = 4; Req sub = 5; }
//
// so New's checks can be tried on annotations no generated code has.
func serviceWith(t *testing.T, streaming bool, rules ...*annotations.HttpRule) protoreflect.ServiceDescriptor {
	t.Helper()
	str := func(s string) *string { return &s }
	i32 := func(i int32) *int32 { return &i }
	label := func(l descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto_Label { return &l }
	typ := func(k descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto_Type { return &k }
	opt, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	fd := &descriptorpb.FileDescriptorProto{
		Name:       str("dyn/v1/dyn.proto"),
		Package:    str("dyn.v1"),
		Syntax:     str("proto3"),
		Dependency: []string{"google/api/annotations.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: str("Req"),
			Field: []*descriptorpb.FieldDescriptorProto{
				{Name: str("name"), Number: i32(1), Label: label(opt), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: str("name")},
				{Name: str("n"), Number: i32(2), Label: label(opt), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_INT32), JsonName: str("n")},
				{Name: str("tags"), Number: i32(3), Label: label(rep), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: str("tags")},
				{Name: str("m"), Number: i32(4), Label: label(rep), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_MESSAGE), TypeName: str(".dyn.v1.Req.MEntry"), JsonName: str("m")},
				{Name: str("sub"), Number: i32(5), Label: label(opt), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_MESSAGE), TypeName: str(".dyn.v1.Req"), JsonName: str("sub")},
			},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name: str("MEntry"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: str("key"), Number: i32(1), Label: label(opt), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: str("key")},
					{Name: str("value"), Number: i32(2), Label: label(opt), Type: typ(descriptorpb.FieldDescriptorProto_TYPE_STRING), JsonName: str("value")},
				},
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			}},
		}},
		Service: []*descriptorpb.ServiceDescriptorProto{{Name: str("Dyn")}},
	}
	for i, rule := range rules {
		opts := &descriptorpb.MethodOptions{}
		proto.SetExtension(opts, annotations.E_Http, rule)
		fd.Service[0].Method = append(fd.Service[0].Method, &descriptorpb.MethodDescriptorProto{
			Name:            str("M" + string(rune('a'+i))),
			InputType:       str(".dyn.v1.Req"),
			OutputType:      str(".dyn.v1.Req"),
			Options:         opts,
			ClientStreaming: proto.Bool(streaming),
		})
	}
	file, err := protodesc.NewFile(fd, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return file.Services().Get(0)
}

func get(path string) *annotations.HttpRule {
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Get{Get: path}}
}

func post(path, body string) *annotations.HttpRule {
	return &annotations.HttpRule{Pattern: &annotations.HttpRule_Post{Post: path}, Body: body}
}

func TestNewRejectsBindingsItCannotServe(t *testing.T) {
	t.Parallel()
	withBody := get("/v1/x")
	withBody.Body = "*"
	nested := get("/v1/a")
	nested.AdditionalBindings = []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Get{Get: "/v1/b"}, AdditionalBindings: []*annotations.HttpRule{get("/v1/c")}}}
	badResponse := get("/v1/r")
	badResponse.ResponseBody = "nope"
	cases := []struct {
		name      string
		streaming bool
		rules     []*annotations.HttpRule
		want      string
	}{
		{"malformed template", false, []*annotations.HttpRule{get("v1/no-slash")}, "does not start with /"},
		{"unterminated variable", false, []*annotations.HttpRule{get("/v1/{name")}, "unterminated variable"},
		{"unknown field", false, []*annotations.HttpRule{get("/v1/{nope}")}, `has no field "nope"`},
		{"map variable", false, []*annotations.HttpRule{get("/v1/{m}")}, "is a map"},
		{"message variable", false, []*annotations.HttpRule{get("/v1/{sub}")}, "no string form"},
		{"path through a repeated field", false, []*annotations.HttpRule{get("/v1/{tags.x}")}, "not a singular message"},
		{"body on GET", false, []*annotations.HttpRule{withBody}, "cannot have a body"},
		{"unknown body field", false, []*annotations.HttpRule{post("/v1/x", "nope")}, `body "nope"`},
		{"unknown response_body", false, []*annotations.HttpRule{badResponse}, `response_body "nope"`},
		{"same route twice", false, []*annotations.HttpRule{get("/v1/{name}"), get("/v1/{name}")}, "also bound to"},
		{"nested additional bindings", false, []*annotations.HttpRule{nested}, "additional bindings of its own"},
		{"client streaming with a body field", true, []*annotations.HttpRule{post("/v1/up", "name")}, `must be "*"`},
		{"client streaming with a path variable", true, []*annotations.HttpRule{post("/v1/{name}", "*")}, "cannot have path variables"},
		{"no pattern", false, []*annotations.HttpRule{{Body: "*"}}, "no pattern"},
		{"bad custom kind", false, []*annotations.HttpRule{{Pattern: &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: "", Path: "/x"}}}}, "not an HTTP method"},
		{"** not last", false, []*annotations.HttpRule{get("/v1/{name=**}/x")}, "must be the last"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := transcode.New(http.NotFoundHandler(), []protoreflect.ServiceDescriptor{serviceWith(t, c.streaming, c.rules...)})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New: %v; want an error with %q", err, c.want)
			}
		})
	}
	if _, err := transcode.New(nil, nil); err == nil {
		t.Error("New with a nil next handler succeeded")
	}
}

func TestNewAcceptsDynamicMessages(t *testing.T) {
	t.Parallel()
	sd := serviceWith(t, false, get("/v1/{name=things/*}/{n}"), post("/v1/tags", "tags"), get("/v1/sub/{sub.name}"))
	h, err := transcode.New(http.NotFoundHandler(), []protoreflect.ServiceDescriptor{sd})
	if err != nil {
		t.Fatal(err)
	}
	routes := h.Routes()
	if len(routes) != 3 || routes[0].Pattern != "/v1/{name=things/*}/{n}" || routes[0].Procedure != "/dyn.v1.Dyn/Ma" || routes[1].Body != "tags" {
		t.Errorf("routes %+v", routes)
	}
	if got := strings.Join(h.Methods(), ","); got != "GET,POST" {
		t.Errorf("methods %s", got)
	}
	// The calls go to next, which serves nothing: UNIMPLEMENTED, after a
	// successful decoding of the dynamic request.
	if w := do(h, "GET", "/v1/things/t/7?tags=a&m[k]=v&sub.n=3", "", ""); w.Code != http.StatusNotImplemented {
		t.Errorf("status %d: %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/v1/things/t/seven", "", ""); w.Code != http.StatusBadRequest {
		t.Errorf("bad int: status %d: %s", w.Code, w.Body)
	}
}
