package interop

// The annotated test service of transcode (library.proto), implemented once
// and served twice: by grpc-go, behind grpc-gateway, and by polyconnect,
// behind the transcoder. Both implementations are thin adapters of the same
// functions, so every difference the side-by-side test sees comes from the
// REST layer.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/api/httpbody"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	"polyconnect.dev/protocol/rpc"

	lib "polyconnect.dev/interop/internal/gen/transcodetest/v1"
	"polyconnect.dev/interop/internal/gen/transcodetest/v1/transcodetestv1rpc"
)

// libError is an error of the shared implementation.
type libError struct {
	code   int32
	msg    string
	detail string // a google.protobuf.StringValue detail, when set
}

var libTime = timestamppb.New(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))

func libGetBook(req *lib.GetBookRequest) (*lib.Book, *libError) {
	if strings.HasSuffix(req.Name, "missing") {
		return nil, &libError{code: 5, msg: "no book " + req.Name}
	}
	return &lib.Book{
		Name: req.Name, Title: "Title of " + req.Name, Author: "Ada", Genre: lib.Genre_GENRE_SCIENCE,
		PageCount: 1 << 40, Tags: []string{"a", "b"}, PublishTime: libTime, Isbn: "978-3", Labels: map[string]string{"k": "v"},
	}, nil
}

func libListBooks(req *lib.ListBooksRequest) (*lib.ListBooksResponse, *libError) {
	res := &lib.ListBooksResponse{NextPageToken: req.PageToken}
	for i := range min(req.PageSize, 10) {
		res.Books = append(res.Books, &lib.Book{
			Name: fmt.Sprintf("%s/books/%d", req.Parent, i), Author: req.GetFilter().GetAuthor(), Genre: req.Genre, Tags: req.Tags,
			PageCount: req.GetFilter().GetMinPages().GetValue(), PublishTime: req.GetFilter().GetPublishedAfter(),
		})
	}
	return res, nil
}

func libCreateBook(req *lib.CreateBookRequest) (*lib.Book, *libError) {
	if req.GetBook().GetTitle() == "" {
		return nil, &libError{code: 3, msg: "a book needs a title", detail: "title"}
	}
	id := req.BookId
	if id == "" {
		id = "new"
	}
	req.Book.Name = req.Parent + "/books/" + id
	return req.Book, nil
}

func libUpdateBook(req *lib.UpdateBookRequest) (*lib.Book, *libError) {
	b := req.Book
	if b == nil {
		b = &lib.Book{}
	}
	b.Tags = req.GetUpdateMask().GetPaths()
	return b, nil
}

func libDeleteBook(req *lib.DeleteBookRequest) (*emptypb.Empty, *libError) {
	if strings.HasSuffix(req.Name, "locked") && !req.Force {
		return nil, &libError{code: 9, msg: "book " + req.Name + " is locked"}
	}
	return &emptypb.Empty{}, nil
}

func libArchiveBook(req *lib.ArchiveBookRequest) (*lib.ArchiveBookResponse, *libError) {
	return &lib.ArchiveBookResponse{Book: &lib.Book{Name: req.Name, Title: req.Reason}, ArchiveTime: libTime}, nil
}

func libSearchBooks(req *lib.SearchBooksRequest) (*lib.ListBooksResponse, *libError) {
	res := &lib.ListBooksResponse{}
	for _, g := range req.Genres {
		res.Books = append(res.Books, &lib.Book{Title: req.Query, Genre: g})
	}
	return res, nil
}

func libGetShelfBooks(req *lib.GetShelfRequest) (*lib.Shelf, *libError) {
	return &lib.Shelf{Name: req.Name, Theme: "t", Books: []*lib.Book{{Name: req.Name + "/books/1"}, {Name: req.Name + "/books/2"}}}, nil
}

func libStreamBooks(req *lib.StreamBooksRequest, send func(*lib.Book) error) *libError {
	for i := range req.Count {
		if err := send(&lib.Book{Name: fmt.Sprintf("%s/books/%d", req.Parent, i)}); err != nil {
			return &libError{code: 1, msg: err.Error()}
		}
	}
	if req.FailCode != 0 {
		return &libError{code: req.FailCode, msg: "stream failed as asked"}
	}
	return nil
}

func libGetFile(req *lib.GetFileRequest) (*httpbody.HttpBody, *libError) {
	if req.Path == "missing" {
		return nil, &libError{code: 5, msg: "no file " + req.Path}
	}
	return &httpbody.HttpBody{ContentType: "text/plain; charset=utf-8", Data: []byte("contents of " + req.Path)}, nil
}

func libUploadFile(req *lib.UploadFileRequest) (*lib.UploadFileResponse, *libError) {
	return &lib.UploadFileResponse{Path: req.Path, Size: int64(len(req.GetFile().GetData())), ContentType: req.GetFile().GetContentType()}, nil
}

func libEcho(req *lib.Everything) (*lib.Everything, *libError) {
	if req.FailCode != 0 {
		return nil, &libError{code: req.FailCode, msg: "echo failed as asked", detail: "detail of the failure"}
	}
	return req, nil
}

// grpcLibrary serves the shared implementation on grpc-go.
type grpcLibrary struct {
	lib.UnimplementedLibraryServiceServer
}

func grpcErr(e *libError) error {
	if e == nil {
		return nil
	}
	st := grpcstatus.New(codes.Code(e.code), e.msg)
	if e.detail != "" {
		if withDetail, err := st.WithDetails(wrapperspb.String(e.detail)); err == nil {
			st = withDetail
		}
	}
	return st.Err()
}

func grpcCall[Req, Res any](req Req, fn func(Req) (Res, *libError)) (Res, error) {
	res, e := fn(req)
	return res, grpcErr(e)
}

func (grpcLibrary) GetBook(_ context.Context, r *lib.GetBookRequest) (*lib.Book, error) {
	return grpcCall(r, libGetBook)
}
func (grpcLibrary) ListBooks(_ context.Context, r *lib.ListBooksRequest) (*lib.ListBooksResponse, error) {
	return grpcCall(r, libListBooks)
}
func (grpcLibrary) CreateBook(_ context.Context, r *lib.CreateBookRequest) (*lib.Book, error) {
	return grpcCall(r, libCreateBook)
}
func (grpcLibrary) UpdateBook(_ context.Context, r *lib.UpdateBookRequest) (*lib.Book, error) {
	return grpcCall(r, libUpdateBook)
}
func (grpcLibrary) DeleteBook(_ context.Context, r *lib.DeleteBookRequest) (*emptypb.Empty, error) {
	return grpcCall(r, libDeleteBook)
}
func (grpcLibrary) ArchiveBook(_ context.Context, r *lib.ArchiveBookRequest) (*lib.ArchiveBookResponse, error) {
	return grpcCall(r, libArchiveBook)
}
func (grpcLibrary) SearchBooks(_ context.Context, r *lib.SearchBooksRequest) (*lib.ListBooksResponse, error) {
	return grpcCall(r, libSearchBooks)
}
func (grpcLibrary) GetShelfBooks(_ context.Context, r *lib.GetShelfRequest) (*lib.Shelf, error) {
	return grpcCall(r, libGetShelfBooks)
}
func (grpcLibrary) GetFile(_ context.Context, r *lib.GetFileRequest) (*httpbody.HttpBody, error) {
	return grpcCall(r, libGetFile)
}
func (grpcLibrary) UploadFile(_ context.Context, r *lib.UploadFileRequest) (*lib.UploadFileResponse, error) {
	return grpcCall(r, libUploadFile)
}
func (grpcLibrary) Echo(_ context.Context, r *lib.Everything) (*lib.Everything, error) {
	return grpcCall(r, libEcho)
}
func (grpcLibrary) StreamBooks(r *lib.StreamBooksRequest, stream grpc.ServerStreamingServer[lib.Book]) error {
	return grpcErr(libStreamBooks(r, stream.Send))
}

// pcLibrary serves the shared implementation on polyconnect.
type pcLibrary struct {
	transcodetestv1rpc.UnimplementedLibraryServiceHandler
}

func pcErr(e *libError) error {
	if e == nil {
		return nil
	}
	err := rpc.NewError(rpc.Code(e.code), e.msg)
	if e.detail != "" {
		_ = err.AddDetail(wrapperspb.String(e.detail))
	}
	return err
}

func pcCall[Req, Res any](req Req, fn func(Req) (Res, *libError)) (Res, error) {
	res, e := fn(req)
	return res, pcErr(e)
}

func (pcLibrary) GetBook(_ context.Context, r *lib.GetBookRequest) (*lib.Book, error) {
	return pcCall(r, libGetBook)
}
func (pcLibrary) ListBooks(_ context.Context, r *lib.ListBooksRequest) (*lib.ListBooksResponse, error) {
	return pcCall(r, libListBooks)
}
func (pcLibrary) CreateBook(_ context.Context, r *lib.CreateBookRequest) (*lib.Book, error) {
	return pcCall(r, libCreateBook)
}
func (pcLibrary) UpdateBook(_ context.Context, r *lib.UpdateBookRequest) (*lib.Book, error) {
	return pcCall(r, libUpdateBook)
}
func (pcLibrary) DeleteBook(_ context.Context, r *lib.DeleteBookRequest) (*emptypb.Empty, error) {
	return pcCall(r, libDeleteBook)
}
func (pcLibrary) ArchiveBook(_ context.Context, r *lib.ArchiveBookRequest) (*lib.ArchiveBookResponse, error) {
	return pcCall(r, libArchiveBook)
}
func (pcLibrary) SearchBooks(_ context.Context, r *lib.SearchBooksRequest) (*lib.ListBooksResponse, error) {
	return pcCall(r, libSearchBooks)
}
func (pcLibrary) GetShelfBooks(_ context.Context, r *lib.GetShelfRequest) (*lib.Shelf, error) {
	return pcCall(r, libGetShelfBooks)
}
func (pcLibrary) GetFile(_ context.Context, r *lib.GetFileRequest) (*httpbody.HttpBody, error) {
	return pcCall(r, libGetFile)
}
func (pcLibrary) UploadFile(_ context.Context, r *lib.UploadFileRequest) (*lib.UploadFileResponse, error) {
	return pcCall(r, libUploadFile)
}
func (pcLibrary) Echo(_ context.Context, r *lib.Everything) (*lib.Everything, error) {
	return pcCall(r, libEcho)
}
func (pcLibrary) StreamBooks(_ context.Context, r *lib.StreamBooksRequest, stream *rpc.ServerStream[lib.Book]) error {
	return pcErr(libStreamBooks(r, stream.Send))
}

func libCreateBooks(recv func() (*lib.CreateBookRequest, error)) (*lib.CreateBooksResponse, *libError) {
	res := &lib.CreateBooksResponse{}
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, &libError{code: 3, msg: "receive: " + err.Error()}
		}
		if req.GetBook().GetTitle() == "" {
			return nil, &libError{code: 3, msg: "a book needs a title"}
		}
		req.Book.Name = req.Parent + "/books/" + req.BookId
		res.Books = append(res.Books, req.Book)
		res.Count++
	}
}

func libUploadChunks(recv func() (*httpbody.HttpBody, error)) (*lib.UploadChunksResponse, *libError) {
	res := &lib.UploadChunksResponse{}
	for {
		chunk, err := recv()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, &libError{code: 3, msg: "receive: " + err.Error()}
		}
		res.Size += int64(len(chunk.Data))
		res.Chunks++
		res.ContentType = chunk.ContentType
	}
}

func libEchoBooks(recv func() (*lib.Book, error), send func(*lib.Book) error) *libError {
	for {
		b, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &libError{code: 3, msg: "receive: " + err.Error()}
		}
		if b.Title == "fail" {
			return &libError{code: 9, msg: "asked to fail"}
		}
		b.Title = strings.ToUpper(b.Title)
		if err := send(b); err != nil {
			return &libError{code: 1, msg: err.Error()}
		}
	}
}

func (grpcLibrary) CreateBooks(stream grpc.ClientStreamingServer[lib.CreateBookRequest, lib.CreateBooksResponse]) error {
	res, e := libCreateBooks(stream.Recv)
	if e != nil {
		return grpcErr(e)
	}
	return stream.SendAndClose(res)
}

func (grpcLibrary) UploadChunks(stream grpc.ClientStreamingServer[httpbody.HttpBody, lib.UploadChunksResponse]) error {
	res, e := libUploadChunks(stream.Recv)
	if e != nil {
		return grpcErr(e)
	}
	return stream.SendAndClose(res)
}

func (grpcLibrary) EchoBooks(stream grpc.BidiStreamingServer[lib.Book, lib.Book]) error {
	return grpcErr(libEchoBooks(stream.Recv, stream.Send))
}

func (pcLibrary) CreateBooks(_ context.Context, stream *rpc.ClientStream[lib.CreateBookRequest]) (*lib.CreateBooksResponse, error) {
	return pcCall(stream.Receive, libCreateBooks)
}

func (pcLibrary) UploadChunks(_ context.Context, stream *rpc.ClientStream[httpbody.HttpBody]) (*lib.UploadChunksResponse, error) {
	return pcCall(stream.Receive, libUploadChunks)
}

func (pcLibrary) EchoBooks(_ context.Context, stream *rpc.BidiStream[lib.Book, lib.Book]) error {
	return pcErr(libEchoBooks(stream.Receive, stream.Send))
}

func libDownloadChunks(req *lib.DownloadChunksRequest, send func(*httpbody.HttpBody) error) *libError {
	for i := range req.Chunks {
		chunk := strings.Repeat(string(rune('a'+i%26)), int(req.ChunkSize))
		if err := send(&httpbody.HttpBody{ContentType: "text/plain", Data: []byte(chunk)}); err != nil {
			return &libError{code: 1, msg: err.Error()}
		}
	}
	return nil
}

func (grpcLibrary) DownloadChunks(r *lib.DownloadChunksRequest, stream grpc.ServerStreamingServer[httpbody.HttpBody]) error {
	return grpcErr(libDownloadChunks(r, stream.Send))
}

func (pcLibrary) DownloadChunks(_ context.Context, r *lib.DownloadChunksRequest, stream *rpc.ServerStream[httpbody.HttpBody]) error {
	return pcErr(libDownloadChunks(r, stream.Send))
}
