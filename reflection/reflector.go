package reflection

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"polyconnect.dev/reflection/internal/reflectionv1"
	"polyconnect.dev/reflection/internal/reflectionv1alpha"
)

// Resolver finds protobuf file descriptors by path and by the full name of
// anything they declare, and visits all of them. *protoregistry.Files
// implements it; protoregistry.GlobalFiles, which holds every file compiled
// into the program, is the default.
type Resolver interface {
	FindFileByPath(path string) (protoreflect.FileDescriptor, error)
	FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error)
	RangeFiles(f func(protoreflect.FileDescriptor) bool)
}

// Reflector answers server reflection requests: it lists the services it was
// given and describes the protobuf files of its [Resolver]. Serve it with
// [NewHandlerV1] and [NewHandlerV1Alpha]. A Reflector is safe for concurrent
// use; one may serve any number of handlers and streams.
type Reflector struct {
	services func() []string
	resolver Resolver
	// own holds the files given with WithFiles, their imports, and this
	// package's own service descriptors. They are looked up before the
	// resolver, so they win over files of the same path or names there.
	own *protoregistry.Files
}

// Option configures a [Reflector].
type Option interface{ apply(*Reflector) }

type optionFunc func(*Reflector)

func (f optionFunc) apply(r *Reflector) { f(r) }

// WithResolver sets where the reflector finds file descriptors, in place of
// protoregistry.GlobalFiles: for instance a *protoregistry.Files built from a
// descriptor set, to describe only the files it holds.
func WithResolver(resolver Resolver) Option {
	return optionFunc(func(r *Reflector) { r.resolver = resolver })
}

// WithFiles adds files, and the files they import, to those the reflector
// describes. They are looked up before the resolver and win over its files of
// the same path or names. Use it for descriptors that are kept out of
// protobuf's global registry, such as the health service's:
//
//	reflection.WithFiles(health.FileDescriptor())
//
// The reflector panics at construction if two of the files declare the same
// name.
func WithFiles(files ...protoreflect.FileDescriptor) Option {
	files = slices.Clone(files)
	return optionFunc(func(r *Reflector) {
		for _, fd := range files {
			if err := registerWithImports(r.own, fd); err != nil {
				panic("reflection: WithFiles: " + err.Error())
			}
		}
	})
}

// NewReflector returns a Reflector that lists the named services, by their
// fully-qualified names such as "greet.v1.GreetService" (generated code
// declares them as constants: greetv1rpc.GreetServiceName). The services are
// not looked up until a client asks for them; a name the resolver does not
// know is listed, and asking for its file gets NOT_FOUND.
//
// Clients may ask about any file the resolver knows, not only the listed
// services' files: use [WithResolver] to limit what is described.
func NewReflector(services []string, opts ...Option) *Reflector {
	services = slices.Clone(services)
	return NewReflectorFunc(func() []string { return services }, opts...)
}

// NewReflectorFunc is like [NewReflector] for a server whose services change:
// services is called for each list request and must be safe for concurrent
// use.
func NewReflectorFunc(services func() []string, opts ...Option) *Reflector {
	r := &Reflector{
		services: services,
		resolver: protoregistry.GlobalFiles,
		own:      new(protoregistry.Files),
	}
	for _, fd := range []protoreflect.FileDescriptor{
		reflectionv1.File_polyconnect_grpc_reflection_v1_reflection_proto,
		reflectionv1alpha.File_polyconnect_grpc_reflection_v1alpha_reflection_proto,
	} {
		if err := registerWithImports(r.own, fd); err != nil {
			panic("reflection: " + err.Error()) // the package's own files cannot conflict
		}
	}
	for _, opt := range opts {
		opt.apply(r)
	}
	return r
}

// registerWithImports registers fd and, transitively, the files it imports
// in files. A file whose path is already there is skipped if it is the same
// file, and is an error otherwise only for fd itself: an import may well
// arrive from two places as two equal descriptors.
func registerWithImports(files *protoregistry.Files, fd protoreflect.FileDescriptor) error {
	return registerFile(files, fd, true)
}

func registerFile(files *protoregistry.Files, fd protoreflect.FileDescriptor, top bool) error {
	if fd.IsPlaceholder() {
		return nil
	}
	if prev, err := files.FindFileByPath(fd.Path()); err == nil {
		if prev == fd || !top {
			return nil
		}
		return fmt.Errorf("two different files with path %q", fd.Path())
	}
	if err := files.RegisterFile(fd); err != nil {
		return err
	}
	imports := fd.Imports()
	for i := range imports.Len() {
		if err := registerFile(files, imports.Get(i).FileDescriptor, false); err != nil {
			return err
		}
	}
	return nil
}

// findFile looks a file up by path, in the reflector's own files first.
func (r *Reflector) findFile(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.own.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return r.resolver.FindFileByPath(path)
}

// findDescriptor looks a declaration up by full name, in the reflector's own
// files first.
func (r *Reflector) findDescriptor(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.own.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return r.resolver.FindDescriptorByName(name)
}

// rangeFiles visits the reflector's own files, then the resolver's files that
// they do not shadow, until f returns false.
func (r *Reflector) rangeFiles(f func(protoreflect.FileDescriptor) bool) {
	more := true
	r.own.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		more = f(fd)
		return more
	})
	if !more {
		return
	}
	r.resolver.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if _, err := r.own.FindFileByPath(fd.Path()); err == nil {
			return true
		}
		return f(fd)
	})
}
