package main

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"polyconnect.dev/protocol/rpc"

	bookstorev1 "polyconnect.dev/examples/gen/bookstore/v1"
	"polyconnect.dev/examples/gen/bookstore/v1/bookstorev1rpc"
)

// bookstore implements bookstorev1rpc.BookstoreServiceHandler in memory. Ids
// count from 1, so a fresh store answers the same requests the same way.
type bookstore struct {
	mu      sync.Mutex
	shelves []*bookstorev1.Shelf
	books   map[int64][]*bookstorev1.Book // by shelf
	lastID  int64
}

var _ bookstorev1rpc.BookstoreServiceHandler = (*bookstore)(nil)

func newBookstore() *bookstore { return &bookstore{books: make(map[int64][]*bookstorev1.Book)} }

func (s *bookstore) shelf(id int64) (*bookstorev1.Shelf, error) {
	for _, sh := range s.shelves {
		if sh.Id == id {
			return sh, nil
		}
	}
	return nil, rpc.NewError(rpc.CodeNotFound, "no shelf "+strconv.FormatInt(id, 10))
}

func (s *bookstore) book(shelf, id int64) (*bookstorev1.Book, error) {
	if _, err := s.shelf(shelf); err != nil {
		return nil, err
	}
	for _, b := range s.books[shelf] {
		if b.Id == id {
			return b, nil
		}
	}
	return nil, rpc.NewError(rpc.CodeNotFound, "no book "+strconv.FormatInt(id, 10)+" on shelf "+strconv.FormatInt(shelf, 10))
}

func (s *bookstore) ListShelves(context.Context, *emptypb.Empty) (*bookstorev1.ListShelvesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := &bookstorev1.ListShelvesResponse{}
	for _, sh := range s.shelves {
		res.Shelves = append(res.Shelves, proto.CloneOf(sh))
	}
	return res, nil
}

func (s *bookstore) CreateShelf(_ context.Context, req *bookstorev1.CreateShelfRequest) (*bookstorev1.Shelf, error) {
	if req.GetShelf().GetTheme() == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "a shelf needs a theme")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastID++
	sh := &bookstorev1.Shelf{Id: s.lastID, Theme: req.Shelf.Theme}
	s.shelves = append(s.shelves, sh)
	return proto.CloneOf(sh), nil
}

func (s *bookstore) GetShelf(_ context.Context, req *bookstorev1.GetShelfRequest) (*bookstorev1.Shelf, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.shelf(req.Shelf)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(sh), nil
}

func (s *bookstore) DeleteShelf(_ context.Context, req *bookstorev1.DeleteShelfRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.shelf(req.Shelf); err != nil {
		return nil, err
	}
	if len(s.books[req.Shelf]) > 0 {
		return nil, rpc.NewError(rpc.CodeFailedPrecondition, "shelf "+strconv.FormatInt(req.Shelf, 10)+" is not empty")
	}
	s.shelves = slices.DeleteFunc(s.shelves, func(sh *bookstorev1.Shelf) bool { return sh.Id == req.Shelf })
	return &emptypb.Empty{}, nil
}

func (s *bookstore) ListBooks(_ context.Context, req *bookstorev1.ListBooksRequest) (*bookstorev1.ListBooksResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	books, err := s.matching(req)
	if err != nil {
		return nil, err
	}
	return &bookstorev1.ListBooksResponse{Books: books}, nil
}

// matching returns copies of the books a ListBooksRequest selects.
func (s *bookstore) matching(req *bookstorev1.ListBooksRequest) ([]*bookstorev1.Book, error) {
	if _, err := s.shelf(req.Shelf); err != nil {
		return nil, err
	}
	var out []*bookstorev1.Book
	for _, b := range s.books[req.Shelf] {
		if req.Author != "" && b.Author != req.Author {
			continue
		}
		if !containsAll(b.Tags, req.Tags) {
			continue
		}
		out = append(out, proto.CloneOf(b))
	}
	return out, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func (s *bookstore) CreateBook(_ context.Context, req *bookstorev1.CreateBookRequest) (*bookstorev1.Book, error) {
	if req.GetBook().GetTitle() == "" {
		return nil, rpc.NewError(rpc.CodeInvalidArgument, "a book needs a title")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.shelf(req.Shelf); err != nil {
		return nil, err
	}
	s.lastID++
	b := proto.CloneOf(req.Book)
	b.Id = s.lastID
	s.books[req.Shelf] = append(s.books[req.Shelf], b)
	return proto.CloneOf(b), nil
}

func (s *bookstore) GetBook(_ context.Context, req *bookstorev1.GetBookRequest) (*bookstorev1.Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.book(req.Shelf, req.Book)
	if err != nil {
		return nil, err
	}
	return proto.CloneOf(b), nil
}

func (s *bookstore) UpdateBook(_ context.Context, req *bookstorev1.UpdateBookRequest) (*bookstorev1.Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.book(req.Shelf, req.GetBook().GetId())
	if err != nil {
		return nil, err
	}
	mask := req.GetUpdateMask()
	if mask == nil {
		mask = &fieldmaskpb.FieldMask{Paths: []string{"title", "author", "tags", "publish_time"}}
	}
	for _, p := range mask.Paths {
		switch p {
		case "title":
			b.Title = req.Book.Title
		case "author":
			b.Author = req.Book.Author
		case "tags":
			b.Tags = req.Book.Tags
		case "publish_time":
			b.PublishTime = req.Book.PublishTime
		case "id":
		default:
			return nil, rpc.NewError(rpc.CodeInvalidArgument, "cannot update field "+strconv.Quote(p))
		}
	}
	return proto.CloneOf(b), nil
}

func (s *bookstore) WatchBooks(_ context.Context, req *bookstorev1.ListBooksRequest, stream *rpc.ServerStream[bookstorev1.Book]) error {
	s.mu.Lock()
	books, err := s.matching(req)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for _, b := range books {
		if err := stream.Send(b); err != nil {
			return err
		}
	}
	return nil
}
