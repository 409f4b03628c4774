// Package generator turns the services of protobuf files into polyconnect Go code: typed clients,
// handler interfaces and constructors built on polyconnect.dev/protocol/rpc.
//
// It is the body of protoc-gen-polyconnect-go, kept apart from the command so that tests can run
// it in-process on a CodeGeneratorRequest.
package generator

import (
	"fmt"
	"go/token"
	"path"
	"runtime/debug"
	"slices"
	"strings"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// DefaultPackageSuffix is the package_suffix used when the parameter is not given: the code for
// a file in Go package greetv1 goes to package greetv1rpc, in a sub-directory of the same name.
const DefaultPackageSuffix = "rpc"

// Editions the plugin accepts, the same range as protoc-gen-go of the protobuf module it is
// built with: the generated code depends only on services and methods, which no edition changes.
const (
	minimumEdition = descriptorpb.Edition_EDITION_PROTO2
	maximumEdition = descriptorpb.Edition_EDITION_2024
)

// supportedFeatures is what the plugin declares to the compiler: proto3 optional fields (it never
// looks at fields) and editions.
const supportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL |
	pluginpb.CodeGeneratorResponse_FEATURE_SUPPORTS_EDITIONS)

// Run generates the response to one CodeGeneratorRequest. Problems with the request's
// parameters or descriptors are reported in the response's error field, as the plugin protocol
// asks; Run does not panic.
func Run(req *pluginpb.CodeGeneratorRequest) (resp *pluginpb.CodeGeneratorResponse) {
	defer func() {
		if r := recover(); r != nil {
			resp = errorResponse(fmt.Errorf("internal error: %v\n%s", r, debug.Stack()))
		}
	}()
	params := parameters{packageSuffix: DefaultPackageSuffix}
	gen, err := protogen.Options{ParamFunc: params.set}.New(req)
	if err != nil {
		return errorResponse(err)
	}
	gen.SupportedFeatures = supportedFeatures
	gen.SupportedEditionsMinimum = minimumEdition
	gen.SupportedEditionsMaximum = maximumEdition
	if err := generate(gen, params); err != nil {
		gen.Error(err)
	}
	return gen.Response()
}

// errorResponse is the response to a request that could not be handled at all.
func errorResponse(err error) *pluginpb.CodeGeneratorResponse {
	return &pluginpb.CodeGeneratorResponse{
		Error:             proto.String("protoc-gen-polyconnect-go: " + err.Error()),
		SupportedFeatures: proto.Uint64(supportedFeatures),
		MinimumEdition:    proto.Int32(int32(minimumEdition)),
		MaximumEdition:    proto.Int32(int32(maximumEdition)),
	}
}

// parameters holds the plugin's own parameters; protogen handles paths=, module= and M.
type parameters struct {
	packageSuffix string
}

// set is a protogen.Options.ParamFunc.
func (p *parameters) set(name, value string) error {
	switch name {
	case "package_suffix":
		for _, r := range value {
			if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("package_suffix=%q: want letters, digits and underscores only", value)
			}
		}
		p.packageSuffix = value
		return nil
	default:
		return fmt.Errorf("unknown parameter %q (want paths, module, M<file>=<import path> or package_suffix)", name)
	}
}

// goPackage is one output Go package: the files of a protoc-gen-go package that have services.
type goPackage struct {
	name       string                // package name, e.g. greetv1rpc
	importPath protogen.GoImportPath // e.g. example.com/gen/greet/v1/greetv1rpc
	pb         *protogen.File        // first file, for the protoc-gen-go package it belongs to
	files      []*protogen.File      // sorted by proto path
	samePB     bool                  // generated into the protoc-gen-go package itself
}

// generate writes one .rpc.go file for each file to generate that has services.
func generate(gen *protogen.Plugin, params parameters) error {
	byPath := map[protogen.GoImportPath]*goPackage{}
	var pkgs []*goPackage
	for _, f := range gen.Files {
		if !f.Generate || len(f.Services) == 0 {
			continue
		}
		name := string(f.GoPackageName) + params.packageSuffix
		importPath := f.GoImportPath
		if params.packageSuffix != "" {
			importPath = protogen.GoImportPath(path.Join(string(f.GoImportPath), name))
		}
		if !token.IsIdentifier(name) {
			return fmt.Errorf("%s: package name %q with package_suffix=%q is not a Go identifier", f.Desc.Path(), name, params.packageSuffix)
		}
		pkg := byPath[importPath]
		if pkg == nil {
			pkg = &goPackage{name: name, importPath: importPath, pb: f, samePB: params.packageSuffix == ""}
			byPath[importPath] = pkg
			pkgs = append(pkgs, pkg)
		}
		if pkg.name != name {
			return fmt.Errorf("%s and %s: Go import path %s has two package names, %s and %s", pkg.files[0].Desc.Path(), f.Desc.Path(), importPath, pkg.name, name)
		}
		pkg.files = append(pkg.files, f)
	}
	for _, pkg := range pkgs {
		slices.SortFunc(pkg.files, func(a, b *protogen.File) int { return strings.Compare(a.Desc.Path(), b.Desc.Path()) })
		pkg.pb = pkg.files[0]
		names := allocatePackageNames(gen, pkg)
		for i, f := range pkg.files {
			if err := generateFile(gen, pkg, names, f, i == 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// outputFilename is where the code for f goes: <proto base name>.rpc.go, in the directory
// protoc-gen-go writes f's code to, or in a sub-directory named after the package.
func outputFilename(pkg *goPackage, f *protogen.File) string {
	dir, base := path.Split(f.GeneratedFilenamePrefix)
	if !pkg.samePB {
		dir = path.Join(dir, pkg.name)
	}
	return path.Join(dir, base+".rpc.go")
}
