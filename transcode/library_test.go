package transcode_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/transcode"
	transcodetestv1 "polyconnect.dev/transcode/internal/gen/transcodetest/v1"
	"polyconnect.dev/transcode/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// library is the test service: stateless, each answer a function of the
// request, so tests can see what the transcoder bound where.
type library struct {
	transcodetestv1rpc.UnimplementedLibraryServiceHandler
}

var fixedTime = timestamppb.New(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))

func (library) GetBook(_ context.Context, req *transcodetestv1.GetBookRequest) (*transcodetestv1.Book, error) {
	if strings.HasSuffix(req.Name, "missing") {
		return nil, rpc.NewError(rpc.CodeNotFound, "no book "+req.Name)
	}
	return &transcodetestv1.Book{
		Name:        req.Name,
		Title:       "Title of " + req.Name,
		Author:      "Ada",
		Genre:       transcodetestv1.Genre_GENRE_SCIENCE,
		PageCount:   1 << 40,
		Tags:        []string{"a", "b"},
		PublishTime: fixedTime,
		Isbn:        "978-3",
		Labels:      map[string]string{"k": "v"},
	}, nil
}

func (library) ListBooks(_ context.Context, req *transcodetestv1.ListBooksRequest) (*transcodetestv1.ListBooksResponse, error) {
	res := &transcodetestv1.ListBooksResponse{NextPageToken: req.PageToken}
	for i := range min(req.PageSize, 10) {
		b := &transcodetestv1.Book{
			Name:        fmt.Sprintf("%s/books/%d", req.Parent, i),
			Author:      req.GetFilter().GetAuthor(),
			Genre:       req.Genre,
			Tags:        req.Tags,
			PageCount:   req.GetFilter().GetMinPages().GetValue(),
			PublishTime: req.GetFilter().GetPublishedAfter(),
		}
		res.Books = append(res.Books, b)
	}
	return res, nil
}

func (library) CreateBook(_ context.Context, req *transcodetestv1.CreateBookRequest) (*transcodetestv1.Book, error) {
	if req.GetBook().GetTitle() == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "a book needs a title")
	}
	b := req.Book
	id := req.BookId
	if id == "" {
		id = "new"
	}
	b.Name = req.Parent + "/books/" + id
	return b, nil
}

func (library) UpdateBook(_ context.Context, req *transcodetestv1.UpdateBookRequest) (*transcodetestv1.Book, error) {
	b := req.Book
	if b == nil {
		b = &transcodetestv1.Book{}
	}
	b.Tags = req.GetUpdateMask().GetPaths()
	return b, nil
}

func (library) DeleteBook(_ context.Context, req *transcodetestv1.DeleteBookRequest) (*emptypb.Empty, error) {
	if strings.HasSuffix(req.Name, "locked") && !req.Force {
		return nil, rpc.NewError(rpc.CodeFailedPrecondition, "book "+req.Name+" is locked")
	}
	return &emptypb.Empty{}, nil
}

func (library) ArchiveBook(_ context.Context, req *transcodetestv1.ArchiveBookRequest) (*transcodetestv1.ArchiveBookResponse, error) {
	return &transcodetestv1.ArchiveBookResponse{
		Book:        &transcodetestv1.Book{Name: req.Name, Title: req.Reason},
		ArchiveTime: fixedTime,
	}, nil
}

func (library) SearchBooks(_ context.Context, req *transcodetestv1.SearchBooksRequest) (*transcodetestv1.ListBooksResponse, error) {
	res := &transcodetestv1.ListBooksResponse{}
	for _, g := range req.Genres {
		res.Books = append(res.Books, &transcodetestv1.Book{Title: req.Query, Genre: g})
	}
	return res, nil
}

func (library) GetShelfBooks(_ context.Context, req *transcodetestv1.GetShelfRequest) (*transcodetestv1.Shelf, error) {
	return &transcodetestv1.Shelf{
		Name:  req.Name,
		Theme: "ignored by response_body",
		Books: []*transcodetestv1.Book{{Name: req.Name + "/books/1"}, {Name: req.Name + "/books/2"}},
	}, nil
}

func (library) StreamBooks(_ context.Context, req *transcodetestv1.StreamBooksRequest, stream *rpc.ServerStream[transcodetestv1.Book]) error {
	for i := range req.Count {
		if err := stream.Send(&transcodetestv1.Book{Name: fmt.Sprintf("%s/books/%d", req.Parent, i)}); err != nil {
			return err
		}
	}
	if req.FailCode != 0 {
		return rpc.NewError(rpc.Code(req.FailCode), "stream failed as asked")
	}
	return nil
}

func (library) GetFile(_ context.Context, req *transcodetestv1.GetFileRequest) (*httpbody.HttpBody, error) {
	if req.Path == "missing" {
		return nil, rpc.NewError(rpc.CodeNotFound, "no file "+req.Path)
	}
	return &httpbody.HttpBody{ContentType: "text/plain; charset=utf-8", Data: []byte("contents of " + req.Path)}, nil
}

func (library) UploadFile(_ context.Context, req *transcodetestv1.UploadFileRequest) (*transcodetestv1.UploadFileResponse, error) {
	return &transcodetestv1.UploadFileResponse{
		Path:        req.Path,
		Size:        int64(len(req.GetFile().GetData())),
		ContentType: req.GetFile().GetContentType(),
	}, nil
}

func (library) Echo(_ context.Context, req *transcodetestv1.Everything) (*transcodetestv1.Everything, error) {
	if req.FailCode != 0 {
		err := rpc.NewError(rpc.Code(req.FailCode), "echo failed as asked")
		_ = err.AddDetail(wrapperspb.String("detail of the failure"))
		return nil, err
	}
	return req, nil
}

// librarySD is the test service's descriptor.
var librarySD = transcodetestv1.File_transcodetest_v1_library_proto.Services().ByName("LibraryService")

// newLibrary mounts the library's RPC handler and the transcoder on one mux
// and returns the mux and the transcoder.
func newLibrary(t testing.TB, handlerOpts []rpc.HandlerOption, opts ...transcode.Option) (*http.ServeMux, *transcode.Handler) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(transcodetestv1rpc.NewLibraryServiceHandler(library{}, handlerOpts...))
	rest, err := transcode.New(mux, []protoreflect.ServiceDescriptor{librarySD}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", rest)
	return mux, rest
}

// do sends a request to h and returns the recorded response.
func do(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func (library) CreateBooks(_ context.Context, stream *rpc.ClientStream[transcodetestv1.CreateBookRequest]) (*transcodetestv1.CreateBooksResponse, error) {
	res := &transcodetestv1.CreateBooksResponse{}
	for req, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		if req.GetBook().GetTitle() == "" {
			return nil, rpc.NewError(rpc.CodeInvalidArgument, "a book needs a title")
		}
		req.Book.Name = req.Parent + "/books/" + req.BookId
		res.Books = append(res.Books, req.Book)
		res.Count++
	}
	return res, nil
}

func (library) UploadChunks(_ context.Context, stream *rpc.ClientStream[httpbody.HttpBody]) (*transcodetestv1.UploadChunksResponse, error) {
	res := &transcodetestv1.UploadChunksResponse{}
	for chunk, err := range stream.All() {
		if err != nil {
			return nil, err
		}
		res.Size += int64(len(chunk.Data))
		res.Chunks++
		res.ContentType = chunk.ContentType
	}
	return res, nil
}

func (library) EchoBooks(_ context.Context, stream *rpc.BidiStream[transcodetestv1.Book, transcodetestv1.Book]) error {
	for b, err := range stream.All() {
		if err != nil {
			return err
		}
		if b.Title == "fail" {
			return rpc.NewError(rpc.CodeFailedPrecondition, "asked to fail")
		}
		b.Title = strings.ToUpper(b.Title)
		if err := stream.Send(b); err != nil {
			return err
		}
	}
	return nil
}

func (library) DownloadChunks(ctx context.Context, req *transcodetestv1.DownloadChunksRequest, stream *rpc.ServerStream[httpbody.HttpBody]) error {
	if info, ok := rpc.HandlerCallInfo(ctx); ok {
		info.ResponseHeader().Set("X-Path", req.Path)
		info.ResponseTrailer().Set("X-Chunks", fmt.Sprint(req.Chunks))
	}
	for i := range req.Chunks {
		chunk := strings.Repeat(string(rune('a'+i%26)), int(req.ChunkSize))
		if err := stream.Send(&httpbody.HttpBody{ContentType: "text/plain", Data: []byte(chunk)}); err != nil {
			return err
		}
	}
	return nil
}
