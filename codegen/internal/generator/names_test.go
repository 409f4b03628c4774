package generator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"testing"
)

func TestLowerCamel(t *testing.T) {
	for in, want := range map[string]string{
		"GreetService": "greetService",
		"Greet":        "greet",
		"HTTPGet":      "httpGet",
		"ID":           "id",
		"URLs":         "urLs",
		"X":            "x",
		"XFoo":         "xFoo",
		"Type_":        "type_",
		"already":      "already",
		"":             "",
	} {
		if got := lowerCamel(in); got != want {
			t.Errorf("lowerCamel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScope(t *testing.T) {
	s := newScope("taken")
	for _, c := range []struct{ want, got string }{
		{"free", "free"},
		{"free", "free_"},
		{"free", "free__"},
		{"taken", "taken_"},
		{"type", "type_"},     // keyword
		{"string", "string_"}, // predeclared
	} {
		if got := s.name(c.want); got != c.got {
			t.Errorf("name(%q) = %q, want %q", c.want, got, c.got)
		}
	}
	clone := s.clone()
	clone.name("other")
	if s.taken("other") {
		t.Error("a name taken in a clone is taken in the original")
	}
	if !clone.taken("free_") {
		t.Error("a clone lost a name")
	}
}

// declarations lists the package-level names of a generated file, and the methods of each of its
// interfaces and of the client implementation structs' fields.
type declarations struct {
	names   map[string]bool
	methods map[string][]string // interface name → method names
	fields  map[string][]string // struct name → field names
}

func parseDeclarations(t *testing.T, name string, src []byte) declarations {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := declarations{names: map[string]bool{}, methods: map[string][]string{}, fields: map[string][]string{}}
	for _, decl := range file.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if decl.Recv == nil {
				d.names[decl.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, spec := range decl.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					d.names[spec.Name.Name] = true
					switch typ := spec.Type.(type) {
					case *ast.InterfaceType:
						for _, m := range typ.Methods.List {
							for _, n := range m.Names {
								d.methods[spec.Name.Name] = append(d.methods[spec.Name.Name], n.Name)
							}
						}
					case *ast.StructType:
						for _, f := range typ.Fields.List {
							for _, n := range f.Names {
								d.fields[spec.Name.Name] = append(d.fields[spec.Name.Name], n.Name)
							}
						}
					}
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						d.names[n.Name] = true
					}
				}
			}
		}
	}
	return d
}

// generated runs the plugin and returns its files by name.
func generated(t *testing.T, parameter string, files ...string) map[string][]byte {
	t.Helper()
	resp := Run(request(loadDescriptors(t), parameter, files...))
	if resp.Error != nil {
		t.Fatal(resp.GetError())
	}
	out := map[string][]byte{}
	for _, f := range resp.File {
		out[f.GetName()] = []byte(f.GetContent())
	}
	return out
}

// TestCollisions pins the naming scheme that names.go describes on collide/v1.
func TestCollisions(t *testing.T) {
	out := generated(t, "paths=source_relative", "collide/v1/collide.proto", "collide/v1/collide_more.proto")
	collide := parseDeclarations(t, "collide.rpc.go", out["collide/v1/collidev1rpc/collide.rpc.go"])
	more := parseDeclarations(t, "collide_more.rpc.go", out["collide/v1/collidev1rpc/collide_more.rpc.go"])

	for _, name := range []string{
		// Service Foo comes first and keeps its names.
		"FooName", "FooClient", "NewFooClient", "FooHandler", "NewFooHandler", "UnimplementedFooHandler",
		"FooBarBazProcedure", "FooNameProcedure", "FooClientProcedure", "FooProcedureProcedure", "FooSpecProcedure",
		// NewFoo wants NewFooClient and NewFooHandler, taken by Foo's constructors.
		"NewFooClient_", "NewNewFooClient", "NewFooHandler_", "NewNewFooHandler",
		// UnimplementedFoo wants UnimplementedFooHandler.
		"UnimplementedFooHandler_", "UnimplementedUnimplementedFooHandler",
		// FooBar.Baz wants Foo.BarBaz's FooBarBazProcedure: method names come after service names.
		"FooBarClient", "FooBarBazProcedure_",
		// A service called Client.
		"ClientClient", "NewClientClient", "ClientClientProcedure",
		// The http service's client implementation would be httpClient, a parameter name.
		"HttpClient", "httpClient_",
	} {
		if !collide.names[name] {
			t.Errorf("collide.rpc.go does not declare %s", name)
		}
	}
	// The second file of the package: FooBar (in collide.proto) keeps NewFooBarClient.
	for _, name := range []string{"NewFooBarClient_", "NewNewFooBarClient", "NewFooBarHandler_"} {
		if !more.names[name] {
			t.Errorf("collide_more.rpc.go does not declare %s", name)
		}
	}

	wantMethods := []string{
		"Type", "Func", "Go", "Select", "Range", "Map", "Type_", "String", "Nil", "Ctx", "Req", "Opts",
		"Svc", "Rpc", "Http", "Context",
		"Ping", "Ping_", "PING", // rpc ping, rpc Ping, rpc PING
		"GetUser", "GetUser_", // rpc get_user, rpc GetUser
		"ServeHTTP",
	}
	for _, iface := range []string{"KeywordsClient", "KeywordsHandler"} {
		if got := collide.methods[iface]; !slices.Equal(got, wantMethods) {
			t.Errorf("%s methods = %v, want %v", iface, got, wantMethods)
		}
	}
	wantFields := []string{
		"type_", "func_", "go_", "select_", "range_", "map_", "type__", "string_", "nil_", "ctx", "req", "opts",
		"svc", "rpc", "http", "context", "ping", "ping_", "ping__", "getUser", "getUser_", "serveHTTP",
	}
	if got := collide.fields["keywordsClient"]; !slices.Equal(got, wantFields) {
		t.Errorf("keywordsClient fields = %v, want %v", got, wantFields)
	}
}

// TestSamePackageCollisions checks that code generated into protoc-gen-go's package avoids the
// names protoc-gen-go declares there.
func TestSamePackageCollisions(t *testing.T) {
	out := generated(t, "paths=source_relative,package_suffix=", "samepkg/v1/samepkg.proto")
	d := parseDeclarations(t, "samepkg.rpc.go", out["samepkg/v1/samepkg.rpc.go"])
	for _, name := range []string{
		"ThingServiceName_",                 // message ThingServiceName
		"ThingServiceClient_",               // message ThingServiceClient
		"ThingServiceHandler_",              // enum ThingServiceHandler
		"UnimplementedThingServiceHandler_", // message UnimplementedThingServiceHandler
		"NewThingServiceClient", "NewThingServiceHandler", "ThingServiceMakeProcedure",
	} {
		if !d.names[name] {
			t.Errorf("samepkg.rpc.go does not declare %s", name)
		}
	}
	for _, name := range []string{"ThingServiceName", "ThingServiceClient", "ThingServiceHandler", "UnimplementedThingServiceHandler", "Request"} {
		if d.names[name] {
			t.Errorf("samepkg.rpc.go declares %s, which protoc-gen-go declares", name)
		}
	}
}
