package generator

import (
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/compiler/protogen"
)

// Names in generated code must not collide: with each other, with protoc-gen-go's names when
// both share a package, with imports, with the generated functions' parameters, and with Go
// keywords. The scheme is deterministic: each name is taken from the natural one (such as
// <Service>Client) by appending "_" until it is free, and names are handed out in a fixed order:
//
//  1. per Go package: protoc-gen-go's names when the code goes into its package (reserved);
//  2. then service-level names, service by service, in proto path and declaration order;
//  3. then method-level names (procedure constants and specs), in the same order;
//  4. per file: import names, the fixed ones (context, http, rpc) first, then the
//     protoc-gen-go package of the file, then other packages by import path;
//  5. per function: local variables.
//
// Method names in the client and handler interfaces are deduplicated per service in
// declaration order, so of rpc ping and rpc Ping the second becomes Ping_.

// fixedLocals are the parameter and variable names that generated functions use. No package-level
// name or import may take them, or a function that uses it would shadow it.
var fixedLocals = []string{"c", "ctx", "req", "stream", "httpClient", "baseURL", "opts", "svc", "w", "r"}

// predeclared are Go's predeclared identifiers; no generated name shadows them.
var predeclared = []string{
	"any", "append", "bool", "byte", "cap", "clear", "close", "comparable", "complex",
	"complex64", "complex128", "copy", "delete", "error", "false", "float32", "float64", "imag",
	"int", "int8", "int16", "int32", "int64", "iota", "len", "make", "max", "min", "new", "nil",
	"panic", "print", "println", "real", "recover", "rune", "string", "true", "uint", "uint8",
	"uint16", "uint32", "uint64", "uintptr",
}

// scope hands out unique Go identifiers.
type scope struct {
	used map[string]bool
}

// newScope returns a scope in which keywords, predeclared identifiers and names are taken.
func newScope(names ...string) *scope {
	s := &scope{used: map[string]bool{}}
	s.reserve(predeclared...)
	s.reserve(names...)
	return s
}

// clone returns a scope with the same names taken; names taken in it later stay there.
func (s *scope) clone() *scope {
	c := &scope{used: make(map[string]bool, len(s.used))}
	for n := range s.used {
		c.used[n] = true
	}
	return c
}

// reserve marks names as taken.
func (s *scope) reserve(names ...string) {
	for _, n := range names {
		s.used[n] = true
	}
}

// taken reports whether name cannot be handed out: it is used or a keyword.
//
// protoc-gen-go's unexported package-level names all start with file_ and end in a fixed word
// (_rawDesc, _goTypes, _init, …), so they cannot meet a generated unexported name, which ends in
// Spec or Client (plus underscores).
func (s *scope) taken(name string) bool {
	return s.used[name] || token.IsKeyword(name)
}

// name returns want, or want with as few "_" appended as make it free, and takes it.
func (s *scope) name(want string) string {
	for s.taken(want) {
		want += "_"
	}
	s.used[want] = true
	return want
}

// lowerCamel lower-cases the start of a CamelCase Go name: GreetService → greetService,
// HTTPGet → httpGet, ID → id.
func lowerCamel(s string) string {
	upper := 0
	for upper < len(s) {
		r, size := utf8.DecodeRuneInString(s[upper:])
		if !unicode.IsUpper(r) {
			break
		}
		upper += size
	}
	switch {
	case upper == 0:
		return s
	case upper == len(s):
		return strings.ToLower(s)
	case upper == 1:
		return strings.ToLower(s[:1]) + s[1:]
	default:
		// Keep the last capital of a run: it starts the next word (HTTPGet → httpGet).
		_, size := utf8.DecodeLastRuneInString(s[:upper])
		return strings.ToLower(s[:upper-size]) + s[upper-size:]
	}
}

// packageNames are the package-level names of a generated package, and the method names of its
// services.
type packageNames struct {
	scope    *scope // package-level names, for finding free import and local names
	services map[*protogen.Service]*serviceNames
}

// serviceNames are the generated names for one service.
type serviceNames struct {
	nameConst     string // GreetServiceName
	client        string // GreetServiceClient
	newClient     string // NewGreetServiceClient
	clientImpl    string // greetServiceClient, the unexported implementation
	handler       string // GreetServiceHandler
	newHandler    string // NewGreetServiceHandler
	unimplemented string // UnimplementedGreetServiceHandler
	methods       []*methodNames
}

// methodNames are the generated names for one method.
type methodNames struct {
	goName    string // Greet, in the client and handler interfaces
	procedure string // GreetServiceGreetProcedure
	spec      string // greetServiceGreetSpec
	field     string // greet, the client field holding the *rpc.Client
}

// allocatePackageNames names everything that pkg declares at package level.
func allocatePackageNames(gen *protogen.Plugin, pkg *goPackage) *packageNames {
	pkgScope := newScope(fixedLocals...)
	if pkg.samePB {
		// protoc-gen-go declares names for every file of its package, with or without services.
		for _, f := range gen.Files {
			if f.GoImportPath == pkg.importPath {
				reserveProtocGenGoNames(pkgScope, f)
			}
		}
	}
	names := &packageNames{scope: pkgScope, services: map[*protogen.Service]*serviceNames{}}
	for _, f := range pkg.files {
		for _, svc := range f.Services {
			s := svc.GoName
			sn := &serviceNames{
				nameConst:     pkgScope.name(s + "Name"),
				client:        pkgScope.name(s + "Client"),
				newClient:     pkgScope.name("New" + s + "Client"),
				clientImpl:    pkgScope.name(lowerCamel(s) + "Client"),
				handler:       pkgScope.name(s + "Handler"),
				newHandler:    pkgScope.name("New" + s + "Handler"),
				unimplemented: pkgScope.name("Unimplemented" + s + "Handler"),
			}
			names.services[svc] = sn
		}
	}
	for _, f := range pkg.files {
		for _, svc := range f.Services {
			sn := names.services[svc]
			methodScope := newScope() // method names in the interfaces
			fieldScope := newScope()  // fields of the client implementation
			for _, m := range svc.Methods {
				goName := methodScope.name(m.GoName)
				sn.methods = append(sn.methods, &methodNames{
					goName:    goName,
					procedure: pkgScope.name(svc.GoName + goName + "Procedure"),
					spec:      pkgScope.name(lowerCamel(svc.GoName) + goName + "Spec"),
					field:     fieldScope.name(lowerCamel(goName)),
				})
			}
		}
	}
	return names
}

// reserveProtocGenGoNames takes the package-level names protoc-gen-go declares for f.
func reserveProtocGenGoNames(s *scope, f *protogen.File) {
	s.reserve(f.GoDescriptorIdent.GoName)
	enum := func(e *protogen.Enum) {
		s.reserve(e.GoIdent.GoName, e.GoIdent.GoName+"_name", e.GoIdent.GoName+"_value")
		for _, v := range e.Values {
			s.reserve(v.GoIdent.GoName)
			if v.PrefixedAlias.GoName != "" {
				s.reserve(v.PrefixedAlias.GoName)
			}
		}
	}
	var message func(m *protogen.Message)
	message = func(m *protogen.Message) {
		s.reserve(m.GoIdent.GoName, m.GoIdent.GoName+"_builder")
		for _, o := range m.Oneofs {
			s.reserve(o.GoIdent.GoName, "is"+o.GoIdent.GoName)
			for _, field := range o.Fields {
				s.reserve(field.GoIdent.GoName)
			}
		}
		for _, x := range m.Extensions {
			s.reserve("E_" + x.GoIdent.GoName)
		}
		for _, e := range m.Enums {
			enum(e)
		}
		for _, nested := range m.Messages {
			message(nested)
		}
	}
	for _, e := range f.Enums {
		enum(e)
	}
	for _, m := range f.Messages {
		message(m)
	}
	for _, x := range f.Extensions {
		s.reserve("E_" + x.GoIdent.GoName)
	}
}
