// Command h2frames is a TCP proxy that records the HTTP/2 frames going each
// way between a client and a cleartext (h2c) server, to compare what two
// servers make the same client do: frames by type and bytes per request,
// how many reads the proxy needed to receive them (how many pieces the
// sender's writes arrived in), and how each HPACK header block was encoded
// (indexed fields, which cost the decoder a table look-up, against literal
// ones, which it must copy and may have to Huffman-decode).
//
//	h2frames -listen 127.0.0.1:0 -to 127.0.0.1:8080
//
// It prints "h2frames: listening at HOST:PORT", proxies until interrupted,
// then prints the counts. The proxy forwards what each read returned in one
// write, so the segmentation the sender chose reaches the receiver
// (approximately: the kernel may still merge or split segments).
package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

func main() {
	log.SetPrefix("h2frames: ")
	log.SetFlags(0)
	listen := flag.String("listen", "127.0.0.1:0", "where to listen (loopback)")
	to := flag.String("to", "", "the h2c server's host:port")
	verbose := flag.Int("v", 0, "print the first N frames of each direction of the first connection")
	flag.Parse()
	if *to == "" {
		log.Fatal("-to is required")
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("h2frames: listening at %s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		c2s   = newStats("client->server")
		s2c   = newStats("server->client")
		first = true
	)
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		cc, err := ln.Accept()
		if err != nil {
			break
		}
		sc, err := net.Dial("tcp", *to)
		if err != nil {
			log.Printf("dialing %s: %v", *to, err)
			cc.Close()
			continue
		}
		v := 0
		mu.Lock()
		if first {
			v, first = *verbose, false
		}
		mu.Unlock()
		wg.Add(2)
		go func() {
			defer wg.Done()
			pipe(sc, cc, c2s, &mu, true, v)
		}()
		go func() {
			defer wg.Done()
			pipe(cc, sc, s2c, &mu, false, v)
		}()
		go func() {
			<-ctx.Done()
			cc.Close()
			sc.Close()
		}()
	}
	wg.Wait()
	c2s.print(os.Stdout, s2c.streamsEnded)
	s2c.print(os.Stdout, s2c.streamsEnded)
}

// stats are the counts of one direction over all connections.
type stats struct {
	name         string
	reads        int64
	bytes        int64
	frames       map[http2.FrameType]int64
	frameBytes   map[http2.FrameType]int64
	blocks       int64 // header blocks
	blockBytes   int64
	indexed      int64 // fields from the static or dynamic table
	literal      int64 // literal fields (name indexed or not)
	literalNew   int64 // of which with incremental indexing
	huffman      int64 // Huffman-coded strings
	plain        int64 // plain strings
	sizeUpdates  int64
	streamsEnded int64 // frames with END_STREAM from this side
	fields       map[string]int64
}

func newStats(name string) *stats {
	return &stats{name: name, frames: map[http2.FrameType]int64{}, frameBytes: map[http2.FrameType]int64{}, fields: map[string]int64{}}
}

// countingReader counts the reads that returned data.
type countingReader struct {
	r     io.Reader
	reads int64
	bytes int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.reads++
		c.bytes += int64(n)
	}
	return n, err
}

// pipe copies src to dst, read by read, and parses the copy as frames.
func pipe(dst, src net.Conn, st *stats, mu *sync.Mutex, fromClient bool, verbose int) {
	defer dst.Close()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	local := newStats(st.name)
	go func() {
		defer close(done)
		parse(pr, local, fromClient, verbose)
		_, _ = io.Copy(io.Discard, pr)
	}()
	cr := &countingReader{r: src}
	buf := make([]byte, 64<<10)
	for {
		n, err := cr.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
			_, _ = pw.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	pw.Close()
	<-done
	local.reads, local.bytes = cr.reads, cr.bytes
	mu.Lock()
	st.add(local)
	mu.Unlock()
}

func (s *stats) add(o *stats) {
	s.reads += o.reads
	s.bytes += o.bytes
	for k, v := range o.frames {
		s.frames[k] += v
	}
	for k, v := range o.frameBytes {
		s.frameBytes[k] += v
	}
	for k, v := range o.fields {
		s.fields[k] += v
	}
	s.blocks += o.blocks
	s.blockBytes += o.blockBytes
	s.indexed += o.indexed
	s.literal += o.literal
	s.literalNew += o.literalNew
	s.huffman += o.huffman
	s.plain += o.plain
	s.sizeUpdates += o.sizeUpdates
	s.streamsEnded += o.streamsEnded
}

// parse reads frames from r and counts them into st.
func parse(r io.Reader, st *stats, fromClient bool, verbose int) {
	br := bufio.NewReaderSize(r, 64<<10)
	if fromClient {
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(br, preface); err != nil {
			return
		}
	}
	fr := http2.NewFramer(nil, br)
	fr.SetMaxReadFrameSize(1 << 24)
	dec := hpack.NewDecoder(64<<10, func(f hpack.HeaderField) {
		st.fields[f.Name]++
	})
	for n := 0; ; n++ {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		h := f.Header()
		st.frames[h.Type]++
		st.frameBytes[h.Type] += int64(frameHeaderLen + h.Length)
		if h.Flags.Has(http2.FlagDataEndStream) && (h.Type == http2.FrameData || h.Type == http2.FrameHeaders) {
			st.streamsEnded++
		}
		if n < verbose {
			fmt.Fprintf(os.Stderr, "%s %v\n", st.name, h)
		}
		var frag []byte
		switch f := f.(type) {
		case *http2.HeadersFrame:
			frag = f.HeaderBlockFragment()
			st.blocks++
		case *http2.ContinuationFrame:
			frag = f.HeaderBlockFragment()
		}
		if frag != nil {
			st.blockBytes += int64(len(frag))
			st.classify(frag)
			if _, err := dec.Write(frag); err != nil {
				log.Printf("%s: HPACK: %v", st.name, err)
				return
			}
		}
	}
}

const frameHeaderLen = 9

// classify walks the representations of an HPACK block (RFC 7541 6) and
// counts them. It assumes whole representations in the fragment, which
// holds for blocks without CONTINUATION.
func (s *stats) classify(p []byte) {
	for len(p) > 0 {
		b := p[0]
		switch {
		case b&0x80 != 0: // indexed field
			s.indexed++
			p = skipInt(p, 7)
		case b&0xc0 == 0x40: // literal with incremental indexing
			s.literal++
			s.literalNew++
			p = s.skipLiteral(p, 6)
		case b&0xe0 == 0x20: // dynamic table size update
			s.sizeUpdates++
			p = skipInt(p, 5)
		default: // literal without indexing or never indexed
			s.literal++
			p = s.skipLiteral(p, 4)
		}
		if p == nil {
			return
		}
	}
}

func (s *stats) skipLiteral(p []byte, prefix uint) []byte {
	nameIdx, rest := readInt(p, prefix)
	if rest == nil {
		return nil
	}
	if nameIdx == 0 {
		if rest = s.skipString(rest); rest == nil {
			return nil
		}
	}
	return s.skipString(rest)
}

func (s *stats) skipString(p []byte) []byte {
	if len(p) == 0 {
		return nil
	}
	if p[0]&0x80 != 0 {
		s.huffman++
	} else {
		s.plain++
	}
	n, rest := readInt(p, 7)
	if rest == nil || uint64(len(rest)) < n {
		return nil
	}
	return rest[n:]
}

func skipInt(p []byte, prefix uint) []byte {
	_, rest := readInt(p, prefix)
	return rest
}

// readInt decodes an HPACK integer with an N-bit prefix; rest is nil if p
// is too short.
func readInt(p []byte, prefix uint) (uint64, []byte) {
	if len(p) == 0 {
		return 0, nil
	}
	max := uint64(1)<<prefix - 1
	v := uint64(p[0]) & max
	p = p[1:]
	if v < max {
		return v, p
	}
	var m uint
	for len(p) > 0 {
		b := p[0]
		p = p[1:]
		v += uint64(b&0x7f) << m
		if b&0x80 == 0 {
			return v, p
		}
		m += 7
	}
	return 0, nil
}

// print writes the counts, per request where calls > 0 (the requests the
// server ended).
func (s *stats) print(w io.Writer, calls int64) {
	per := func(n int64) float64 {
		if calls == 0 {
			return float64(n)
		}
		return float64(n) / float64(calls)
	}
	fmt.Fprintf(w, "%s: %d requests; per request: %.2f reads, %.1f bytes\n", s.name, calls, per(s.reads), per(s.bytes))
	types := make([]http2.FrameType, 0, len(s.frames))
	for t := range s.frames {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		fmt.Fprintf(w, "  %-14v %8.3f frames %8.1f bytes\n", t, per(s.frames[t]), per(s.frameBytes[t]))
	}
	fmt.Fprintf(w, "  HPACK: %.2f blocks, %.1f bytes; fields %.2f indexed, %.2f literal (%.2f added to the table), strings %.2f Huffman %.2f plain, %.3f size updates\n",
		per(s.blocks), per(s.blockBytes), per(s.indexed), per(s.literal), per(s.literalNew), per(s.huffman), per(s.plain), per(s.sizeUpdates))
	names := make([]string, 0, len(s.fields))
	for n := range s.fields {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(a, b) })
	for _, n := range names {
		fmt.Fprintf(w, "    %-24s %.3f\n", n, per(s.fields[n]))
	}
}
