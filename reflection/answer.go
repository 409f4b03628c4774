package reflection

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"

	"polyconnect.dev/protocol/rpc"
	rpb "polyconnect.dev/reflection/internal/reflectionv1"
)

// serveStream answers each request received on one reflection stream, in
// order, until the client closes its side (receive returns io.EOF, which ends
// the call cleanly) or the call fails. Both versions of the service run it:
// their messages are the same.
func (r *Reflector) serveStream(ctx context.Context, receive func() (*rpb.ServerReflectionRequest, error), send func(*rpb.ServerReflectionResponse) error) error {
	// Files already sent on this stream are not sent again as imports:
	// clients keep what they received. The set is bounded by the number of
	// files the reflector knows.
	sent := make(map[string]bool)
	for {
		req, err := receive()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(r.answer(req, sent)); err != nil {
			return err
		}
	}
}

// answer builds the response to one request. Failures are answered in band
// with an ErrorResponse, as the protocol asks, and the stream goes on.
func (r *Reflector) answer(req *rpb.ServerReflectionRequest, sent map[string]bool) *rpb.ServerReflectionResponse {
	res := &rpb.ServerReflectionResponse{ValidHost: req.GetHost(), OriginalRequest: req}
	var err *answerError
	switch q := req.GetMessageRequest().(type) {
	case *rpb.ServerReflectionRequest_FileByFilename:
		if fd, lookupErr := r.findFile(q.FileByFilename); lookupErr == nil {
			res.MessageResponse, err = filesResponse(fd, sent)
		} else {
			err = notFound("file", q.FileByFilename)
		}
	case *rpb.ServerReflectionRequest_FileContainingSymbol:
		if d, lookupErr := r.findDescriptor(protoreflect.FullName(q.FileContainingSymbol)); lookupErr == nil {
			res.MessageResponse, err = filesResponse(d.ParentFile(), sent)
		} else {
			err = notFound("symbol", q.FileContainingSymbol)
		}
	case *rpb.ServerReflectionRequest_FileContainingExtension:
		containing := protoreflect.FullName(q.FileContainingExtension.GetContainingType())
		number := protoreflect.FieldNumber(q.FileContainingExtension.GetExtensionNumber())
		if ext := r.findExtension(containing, number); ext != nil {
			res.MessageResponse, err = filesResponse(ext.ParentFile(), sent)
		} else {
			err = notFound("extension", string(containing)+" "+strconv.Itoa(int(number)))
		}
	case *rpb.ServerReflectionRequest_AllExtensionNumbersOfType:
		res.MessageResponse, err = r.extensionNumbers(protoreflect.FullName(q.AllExtensionNumbersOfType))
	case *rpb.ServerReflectionRequest_ListServices:
		res.MessageResponse = r.listServices()
	default:
		err = &answerError{rpc.CodeInvalidArgument, "reflection: the request asks nothing: set one of the message_request fields"}
	}
	if err != nil {
		res.MessageResponse = &rpb.ServerReflectionResponse_ErrorResponse{ErrorResponse: &rpb.ErrorResponse{
			ErrorCode:    int32(err.code),
			ErrorMessage: err.msg,
		}}
	}
	return res
}

// filesResponse holds fd and the files it imports, transitively, that were
// not sent on this stream yet; fd comes first and is always included.
func filesResponse(fd protoreflect.FileDescriptor, sent map[string]bool) (*rpb.ServerReflectionResponse_FileDescriptorResponse, *answerError) {
	var out [][]byte
	var visit func(f protoreflect.FileDescriptor, requested bool) *answerError
	visit = func(f protoreflect.FileDescriptor, requested bool) *answerError {
		if f.IsPlaceholder() || (!requested && sent[f.Path()]) {
			return nil
		}
		sent[f.Path()] = true
		b, err := proto.Marshal(protodesc.ToFileDescriptorProto(f))
		if err != nil {
			return &answerError{rpc.CodeInternal, "reflection: " + f.Path() + ": " + err.Error()}
		}
		out = append(out, b)
		imports := f.Imports()
		for i := range imports.Len() {
			if err := visit(imports.Get(i).FileDescriptor, false); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit(fd, true); err != nil {
		return nil, err
	}
	return &rpb.ServerReflectionResponse_FileDescriptorResponse{
		FileDescriptorResponse: &rpb.FileDescriptorResponse{FileDescriptorProto: out},
	}, nil
}

// findExtension returns the extension of message containing with the given
// field number, or nil.
func (r *Reflector) findExtension(containing protoreflect.FullName, number protoreflect.FieldNumber) protoreflect.ExtensionDescriptor {
	var found protoreflect.ExtensionDescriptor
	r.rangeExtensions(containing, func(ext protoreflect.ExtensionDescriptor) bool {
		if ext.Number() == number {
			found = ext
			return false
		}
		return true
	})
	return found
}

// extensionNumbers lists the field numbers of every known extension of a
// message, in increasing order.
func (r *Reflector) extensionNumbers(message protoreflect.FullName) (*rpb.ServerReflectionResponse_AllExtensionNumbersResponse, *answerError) {
	d, err := r.findDescriptor(message)
	if err != nil {
		return nil, notFound("message", string(message))
	}
	if _, ok := d.(protoreflect.MessageDescriptor); !ok {
		return nil, &answerError{rpc.CodeInvalidArgument, "reflection: " + strconv.Quote(string(message)) + " is not a message"}
	}
	var numbers []int32
	r.rangeExtensions(message, func(ext protoreflect.ExtensionDescriptor) bool {
		numbers = append(numbers, int32(ext.Number()))
		return true
	})
	slices.Sort(numbers)
	return &rpb.ServerReflectionResponse_AllExtensionNumbersResponse{
		AllExtensionNumbersResponse: &rpb.ExtensionNumberResponse{
			BaseTypeName:    string(message),
			ExtensionNumber: slices.Compact(numbers),
		},
	}, nil
}

// rangeExtensions visits every extension of message declared in the known
// files, top-level or nested in messages, until f returns false.
func (r *Reflector) rangeExtensions(message protoreflect.FullName, f func(protoreflect.ExtensionDescriptor) bool) {
	more := true
	var walk func(exts protoreflect.ExtensionDescriptors, msgs protoreflect.MessageDescriptors)
	walk = func(exts protoreflect.ExtensionDescriptors, msgs protoreflect.MessageDescriptors) {
		for i := 0; more && i < exts.Len(); i++ {
			if ext := exts.Get(i); ext.ContainingMessage().FullName() == message {
				more = f(ext)
			}
		}
		for i := 0; more && i < msgs.Len(); i++ {
			walk(msgs.Get(i).Extensions(), msgs.Get(i).Messages())
		}
	}
	r.rangeFiles(func(fd protoreflect.FileDescriptor) bool {
		walk(fd.Extensions(), fd.Messages())
		return more
	})
}

// listServices lists the services the reflector was given.
func (r *Reflector) listServices() *rpb.ServerReflectionResponse_ListServicesResponse {
	names := r.services()
	list := &rpb.ListServiceResponse{Service: make([]*rpb.ServiceResponse, 0, len(names))}
	for _, name := range names {
		list.Service = append(list.Service, &rpb.ServiceResponse{Name: name})
	}
	return &rpb.ServerReflectionResponse_ListServicesResponse{ListServicesResponse: list}
}

// answerError is a failure to answer one request, sent back as an
// ErrorResponse.
type answerError struct {
	code rpc.Code
	msg  string
}

// notFound is the NOT_FOUND error for an unknown file, symbol, message or
// extension.
func notFound(what, name string) *answerError {
	return &answerError{rpc.CodeNotFound, "reflection: unknown " + what + " " + strconv.Quote(name)}
}
