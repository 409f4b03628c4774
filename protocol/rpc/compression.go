package rpc

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Compression is a compression algorithm that can be negotiated on the wire,
// named as in Content-Encoding ("gzip", "br", "zstd", …). Implementations must
// be safe for concurrent use; the compressors and decompressors they return
// are used by one goroutine at a time and reused through Reset.
type Compression interface {
	// Name is the algorithm's token in the encoding headers.
	Name() string
	// NewCompressor returns a compressor writing to w.
	NewCompressor(w io.Writer) Compressor
	// NewDecompressor returns a decompressor reading from r.
	NewDecompressor(r io.Reader) (Decompressor, error)
}

// Compressor is a reusable compressing writer. Close flushes the compressed
// stream; Reset readies it for a new destination.
type Compressor interface {
	io.WriteCloser
	Reset(w io.Writer)
}

// Decompressor is a reusable decompressing reader.
type Decompressor interface {
	io.Reader
	Reset(r io.Reader) error
	Close() error
}

const (
	compressionIdentity = "identity"
	compressionGzip     = "gzip"
)

var (
	registryMu    sync.Mutex
	registry      = map[string]Compression{compressionGzip: gzipCompression{}}
	registryOrder = []string{compressionGzip}
)

// RegisterCompression adds c to the default set of algorithms: every client
// and handler created afterwards without WithCompressions advertises and
// accepts it. Call it from an init function (the compress/… sub-packages do),
// so the set is complete before any client or handler exists. Explicit options
// always win: WithCompressions, WithCompression and WithoutCompression set
// what one client or handler supports whatever was registered.
// RegisterCompression panics if c is nil, its name is empty or "identity", or
// the name is already registered (gzip is built in): two packages must not
// silently replace each other's algorithm.
func RegisterCompression(c Compression) {
	if c == nil {
		panic("rpc: RegisterCompression of a nil Compression")
	}
	name := c.Name()
	if name == "" || name == compressionIdentity {
		panic("rpc: RegisterCompression with the reserved name " + strconv.Quote(name))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("rpc: RegisterCompression called twice for " + strconv.Quote(name))
	}
	registryOrder = append(registryOrder, name)
	registry[name] = c
}

// compressionEdit is one compression option: an exact set, an algorithm to
// add or replace, or names to remove.
type compressionEdit struct {
	exact  bool
	set    []Compression
	add    Compression
	remove []string
}

// compressionSet is the immutable set of algorithms one client or handler
// supports, with a pool per algorithm.
type compressionSet struct {
	pools  map[string]*compressionPool
	names  []string
	accept string // comma-separated names, for accept-encoding headers
}

// newCompressionSet builds the set of one client or handler: the default
// (registered) set, changed by the options in the order they were given.
func newCompressionSet(edits []compressionEdit) *compressionSet {
	byName := make(map[string]Compression)
	var names []string
	put := func(c Compression) {
		if c == nil || c.Name() == "" || c.Name() == compressionIdentity {
			return
		}
		if _, ok := byName[c.Name()]; !ok {
			names = append(names, c.Name())
		}
		byName[c.Name()] = c
	}
	if len(edits) == 0 || !edits[0].exact {
		registryMu.Lock()
		for _, n := range registryOrder {
			put(registry[n])
		}
		registryMu.Unlock()
	}
	for _, e := range edits {
		switch {
		case e.exact:
			clear(byName)
			names = names[:0]
			for _, c := range e.set {
				put(c)
			}
		case e.add != nil:
			put(e.add)
		default:
			for _, n := range e.remove {
				if _, ok := byName[n]; ok {
					delete(byName, n)
					names = slices.DeleteFunc(names, func(s string) bool { return s == n })
				}
			}
		}
	}
	s := &compressionSet{pools: make(map[string]*compressionPool, len(names)), names: names}
	for _, n := range names {
		s.pools[n] = &compressionPool{c: byName[n]}
	}
	s.accept = strings.Join(names, ",")
	return s
}

// get returns the pool for name, nil for identity or an unknown name.
func (s *compressionSet) get(name string) *compressionPool {
	if name == "" || name == compressionIdentity {
		return nil
	}
	return s.pools[name]
}

// supports reports whether name is identity or a known algorithm.
func (s *compressionSet) supports(name string) bool {
	return name == "" || name == compressionIdentity || s.pools[name] != nil
}

// negotiate picks the first algorithm of an accept list we support, "" if none.
func (s *compressionSet) negotiate(accept string) string {
	for accept != "" {
		var tok string
		tok, accept, _ = strings.Cut(accept, ",")
		tok = strings.TrimSpace(tok)
		if i := strings.IndexByte(tok, ';'); i >= 0 {
			tok = strings.TrimSpace(tok[:i])
		}
		if tok != compressionIdentity && s.pools[tok] != nil {
			return tok
		}
	}
	return ""
}

func (s *compressionSet) unsupportedError(name string) *Error {
	return errorf(CodeUnimplemented, "unknown compression "+strconv.Quote(name)+": supported encodings are "+s.acceptWithIdentity())
}

func (s *compressionSet) acceptWithIdentity() string {
	if s.accept == "" {
		return compressionIdentity
	}
	return s.accept + "," + compressionIdentity
}

type compressionPool struct {
	c   Compression
	enc sync.Pool // Compressor
	dec sync.Pool // *pooledDecompressor
}

type pooledDecompressor struct {
	d  Decompressor
	br bytes.Reader
	lr io.LimitedReader
}

// compress appends the compressed form of src to dst.
func (p *compressionPool) compress(dst *buffer, src []byte) error {
	w, _ := p.enc.Get().(Compressor)
	if w == nil {
		w = p.c.NewCompressor(dst)
	} else {
		w.Reset(dst)
	}
	_, err := w.Write(src)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	w.Reset(io.Discard)
	p.enc.Put(w)
	return err
}

// errTooLarge marks a decompressed message over the read limit.
var errTooLarge = errors.New("message too large")

// decompress appends the decompression of src to dst, reading at most
// limit bytes (limit <= 0: no limit). It returns errTooLarge when the result
// would exceed limit, without materialising more than limit+1 bytes.
func (p *compressionPool) decompress(dst *buffer, src []byte, limit int64) error {
	pd, _ := p.dec.Get().(*pooledDecompressor)
	if pd == nil {
		pd = &pooledDecompressor{}
		pd.br.Reset(src)
		d, err := p.c.NewDecompressor(&pd.br)
		if err != nil {
			return err
		}
		pd.d = d
	} else {
		pd.br.Reset(src)
		if err := pd.d.Reset(&pd.br); err != nil {
			p.dec.Put(pd)
			return err
		}
	}
	var r io.Reader = pd.d
	if limit > 0 {
		pd.lr = io.LimitedReader{R: r, N: limit + 1}
		r = &pd.lr
	}
	_, err := dst.ReadFrom(r)
	_ = pd.d.Close()
	pd.br.Reset(nil)
	p.dec.Put(pd)
	if err != nil {
		return err
	}
	if limit > 0 && int64(dst.Len()) > limit {
		return errTooLarge
	}
	return nil
}

type gzipCompression struct{}

func (gzipCompression) Name() string { return compressionGzip }

func (gzipCompression) NewCompressor(w io.Writer) Compressor {
	return gzip.NewWriter(w)
}

func (gzipCompression) NewDecompressor(r io.Reader) (Decompressor, error) {
	return gzip.NewReader(r)
}

// GzipCompression returns the built-in gzip algorithm.
func GzipCompression() Compression { return gzipCompression{} }
