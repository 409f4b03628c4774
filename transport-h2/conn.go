package h2

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// conn is what the server and client sides of an HTTP/2 connection share:
// the socket, one reader goroutine (readLoop) and one batching writer
// goroutine (writeLoop), flow control in both directions, settings, PINGs
// and GOAWAY. The side-specific parts live behind role.
type conn struct {
	nc     net.Conn
	role   role
	server bool
	logf   func(format string, args ...any)
	limits limits

	// Owned by the reader goroutine.
	br             *bufio.Reader
	fr             *http2.Framer
	dec            *hpack.Decoder
	hb             headerBlock
	canonCache     map[string]string
	bdp            bdpEstimator
	answers        floodMeter // frames the peer made us answer (defense.go)
	junkFrames     floodMeter // frames that cost reading and moved nothing
	deliveredBytes int        // DATA delivered towards the next junk payback
	lastPingAt     time.Time  // when the peer's last PING came (keep-alive enforcement)
	pingStrikes    int        // PINGs that came too early (keepalive.go)
	sawSettings    bool
	deferredRecv   []*recvBuffer // consumers to wake once the buffered frames are read
	hdrPayload     []byte        // the payload of the HEADERS frame being read
	dataPayload    []byte        // a DATA payload that was not all buffered

	// The receive window and what the streams hold (flow.go).
	flow         connRecv
	streamWindow streamTarget // the window a stream that is read may grow to

	// Read by the timer, written by the reader.
	lastRead    atomic.Int64 // unix nanoseconds of the last frame read
	blockStart  atomic.Int64 // unix nanoseconds a header block began, 0 if none
	pingSent    atomic.Int64 // unix nanoseconds of an unanswered keep-alive PING, 0 if none
	timer       *time.Timer
	timerPeriod time.Duration

	// mu guards the send side and the stream table.
	mu               sync.Mutex
	streams          map[uint32]*stream
	ctrl             []ctrlFrame
	ready            streamQueue
	connBlocked      []*stream
	sendWindow       int64
	peer             peerSettings
	writerIdle       bool
	writeClosed      bool // no frame will be written any more
	lingerAfterFlush bool // a final GOAWAY is queued: flush, then shut down
	ctrlOverflow     bool
	dataSincePing    bool      // DATA written since the last free PING (defense.go)
	sentSincePing    bool      // headers or DATA written since the peer's last PING (keepalive.go)
	flushing         time.Time // when the write in progress started
	closeErr         error     // why the connection failed, once it has
	wake             chan struct{}
	writerDone       chan struct{}

	failOnce   sync.Once
	closeOnce  sync.Once
	closed     chan struct{} // closed when the connection is closed
	readerDone chan struct{} // closed when run returns

	// Owned by the writer goroutine (used under mu while building batches).
	bw         batchWriter
	wfr        *http2.Framer
	henc       *hpack.Encoder
	hbuf       bytes.Buffer
	lowerCache map[string]string
}

// role is the side-specific part of a connection.
type role interface {
	// onHeaders handles a complete header block.
	onHeaders(hb *headerBlock) error
	// onData handles a DATA frame's data after connection-level flow
	// control; frameLen counts the padding too.
	onData(id uint32, data []byte, frameLen int, end bool) error
	// onRSTStream handles a RST_STREAM frame.
	onRSTStream(f *http2.RSTStreamFrame) error
	// onGoAway handles a GOAWAY frame.
	onGoAway(f *http2.GoAwayFrame)
	// onPingAck handles the acknowledgement of a PING the role sent; it
	// reports false if the role sent no such PING.
	onPingAck(data [8]byte) bool
	// idle reports whether an ID that is not in the stream table names a
	// stream that was never opened (rather than one that closed).
	idle(id uint32) bool
	// lastStreamID is the GOAWAY last-stream-ID to send now (mu held).
	lastStreamID() uint32
	// settingsChanged runs (with mu held) after the peer's SETTINGS are
	// applied.
	settingsChangedLocked()
	// sentEnd runs (with mu held) once a stream's last frame is queued.
	sentEnd(s *stream)
	// streamClosedLocked runs (with mu held) when a stream leaves the
	// stream table.
	streamClosedLocked(s *stream)
	// connClosed runs once when the connection closes, with the streams it
	// carried.
	connClosed(err error, streams []*stream)
	// tick runs on the connection's timer, for the role's timeouts.
	tick(now time.Time)
	// hasCalls reports whether the connection carries a call.
	hasCalls() bool
	// flushDeferred runs, on the reader goroutine, what the role put off
	// until the frames already buffered are read (starting handlers,
	// handing responses to callers).
	flushDeferred()
}

// limits are a connection's settings and defences.
type limits struct {
	maxHeaderList       uint32        // decoded header list size we accept
	maxReadFrame        uint32        // SETTINGS_MAX_FRAME_SIZE we advertise
	maxConcurrent       uint32        // SETTINGS_MAX_CONCURRENT_STREAMS (servers)
	streamWindow        int32         // initial stream window we advertise
	connWindow          int32         // initial connection window
	maxStreamWindow     int32         // how far BDP estimation may grow it
	maxConnWindow       int32         // how far BDP estimation may grow it
	bdp                 bool          // grow windows from measured bandwidth-delay
	handshakeTimeout    time.Duration // and header-block timeout
	keepalive           keepalive     // keep-alive PINGs and their enforcement (keepalive.go)
	flowControlTimeout  time.Duration // 0: none
	writeStallTimeout   time.Duration // one write to the socket may take this long; 0: none
	idleTimeout         time.Duration // the role's idle timeout, for the timer's period
	maxStreamSendBuffer int           // bytes a stream may queue before its writer waits
	connBufferLimit     int64         // received bytes unread plus window granted, per connection
}

// peerSettings are the peer's SETTINGS that bind what we send.
type peerSettings struct {
	maxFrameSize    uint32
	initialWindow   int32
	maxConcurrent   uint32
	headerTableSize uint32
	maxHeaderList   uint32
	gotSettings     bool
}

func defaultPeerSettings() peerSettings {
	return peerSettings{
		maxFrameSize:    16 << 10,
		initialWindow:   65535,
		maxConcurrent:   math.MaxUint32,
		headerTableSize: 4096,
		maxHeaderList:   math.MaxUint32,
	}
}

// Errors that end a connection.
var (
	errControlFlood = errors.New("h2: the peer does not read the control frames it causes")
	errClosed       = errors.New("h2: connection closed")
)

// connError is a connection error: GOAWAY with code, then close.
type connError struct {
	code   http2.ErrCode
	reason string
}

func (e connError) Error() string {
	return fmt.Sprintf("h2: connection error %v: %s", e.code, e.reason)
}

// streamError is a stream error: RST_STREAM with code.
type streamError struct {
	id     uint32
	code   http2.ErrCode
	reason string
}

func (e streamError) Error() string {
	return fmt.Sprintf("h2: stream %d error %v: %s", e.id, e.code, e.reason)
}

// peerReset is the error a stream sees when the peer resets it.
type peerReset struct{ code http2.ErrCode }

func (e peerReset) Error() string {
	return "h2: stream reset by the peer: " + e.code.String()
}

// goAwayError is the error a connection fails with when the peer says
// GOAWAY with an error code, or streams above its last stream ID.
type goAwayError struct {
	code  http2.ErrCode
	debug string
}

func (e goAwayError) Error() string {
	if e.debug != "" {
		return "h2: the peer sent GOAWAY " + e.code.String() + ": " + e.debug
	}
	return "h2: the peer sent GOAWAY " + e.code.String()
}

// newConn sets up the shared state of a connection over nc. Nothing runs
// until start.
func newConn(nc net.Conn, r role, server bool, lim limits, logf func(string, ...any)) *conn {
	c := &conn{
		nc:         nc,
		role:       r,
		server:     server,
		logf:       logf,
		limits:     lim,
		streams:    make(map[uint32]*stream),
		peer:       defaultPeerSettings(),
		sendWindow: 65535,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		closed:     make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.flow.avail = 65535
	c.flow.window = 65535
	c.flow.budget = max(lim.connBufferLimit, int64(lim.connWindow), 65535)
	c.streamWindow.v.Store(lim.streamWindow)
	c.br = bufio.NewReaderSize(nc, 32<<10)
	c.fr = http2.NewFramer(nil, c.br)
	c.fr.SetMaxReadFrameSize(lim.maxReadFrame)
	c.fr.SetReuseFrames()
	c.dec = hpack.NewDecoder(4096, c.emitField)
	c.dec.SetMaxStringLength(int(lim.maxHeaderList))
	c.bw.nc = nc
	_, isTCP := nc.(*net.TCPConn)
	c.bw.vectored = isTCP && vectoredWrites.Load()
	c.wfr = http2.NewFramer(&c.bw, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.bdp.init(lim)
	// The timer exists, unarmed, before any other goroutine sees c:
	// onTimer and closeWithError read c.timer, and one created in
	// startTimer could fire (on a loaded machine) before the field was
	// written. startTimer arms it.
	c.timer = time.AfterFunc(time.Duration(math.MaxInt64), c.onTimer)
	return c
}

// start queues the initial SETTINGS (and the connection window), starts
// the writer and the timer. The caller runs readLoop.
func (c *conn) start(settings []http2.Setting) {
	c.ctrl = append(c.ctrl, ctrlFrame{kind: ctrlSettings, settings: settings})
	if c.limits.connWindow > 65535 {
		inc := c.limits.connWindow - 65535
		c.ctrl = append(c.ctrl, ctrlFrame{kind: ctrlWindowUpdate, n: uint32(inc)})
		c.flow.avail += int64(inc)
		c.flow.window = int64(c.limits.connWindow)
	}
	c.lastRead.Store(time.Now().UnixNano())
	go c.writeLoop()
	c.startTimer()
}

// localSettings lists the SETTINGS this side advertises.
func (c *conn) localSettings() []http2.Setting {
	s := []http2.Setting{
		{ID: http2.SettingMaxFrameSize, Val: c.limits.maxReadFrame},
		{ID: http2.SettingMaxHeaderListSize, Val: c.limits.maxHeaderList},
		{ID: http2.SettingInitialWindowSize, Val: uint32(c.limits.streamWindow)},
	}
	if c.server {
		s = append(s, http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: c.limits.maxConcurrent})
	} else {
		s = append(s, http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	}
	return s
}

// run runs the reader on the calling goroutine until the connection ends.
func (c *conn) run() {
	defer close(c.readerDone)
	err := c.readLoop()
	c.flushDeferred()
	var ce connError
	if errors.As(err, &ce) {
		// Keep reading, and dropping, what the peer still sends while the
		// GOAWAY goes out: closing a socket with unread data resets it,
		// and the peer might never see the GOAWAY.
		_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.br, 1<<20))
	}
}

// readLoop reads frames until the connection fails or closes. It returns
// the error that ended it.
func (c *conn) readLoop() error {
	for {
		if !c.nextFrameBuffered() {
			// The next read may block: wake whoever the frames read so
			// far concern first.
			c.flushDeferred()
		}
		fh, err := c.fr.ReadFrameHeader()
		if err != nil {
			return c.fail(c.readError(err))
		}
		if c.limits.keepalive.pingInterval > 0 {
			c.lastRead.Store(time.Now().UnixNano())
		}
		if c.sawSettings && (fh.Type == http2.FrameHeaders || fh.Type == http2.FrameData) {
			if fh.Type == http2.FrameHeaders {
				err = c.readHeadersFrame(fh)
			} else {
				err = c.readDataFrame(fh)
			}
			if err != nil {
				var se streamError
				if errors.As(err, &se) {
					if cerr := c.streamFailed(se); cerr != nil {
						return c.fail(cerr)
					}
					continue
				}
				return c.fail(err)
			}
			continue
		}
		f, err := c.fr.ReadFrameForHeader(fh)
		if err != nil {
			var se http2.StreamError
			if !errors.As(err, &se) {
				return c.fail(c.readError(err))
			}
			if fh.Type == http2.FrameHeaders {
				// A HEADERS frame whose padding is longer than the frame:
				// its header block cannot be decoded, so the HPACK state
				// is lost for the whole connection (RFC 9113 6.2 makes it
				// a connection error).
				return c.fail(connError{code: http2.ErrCodeProtocol, reason: "HEADERS frame with invalid padding"})
			}
			// The Framer found a malformed frame on one stream.
			if cerr := c.streamFailed(streamError{id: se.StreamID, code: se.Code, reason: "malformed frame"}); cerr != nil {
				return c.fail(cerr)
			}
			continue
		}
		if err := c.handleFrame(f); err != nil {
			var se streamError
			if errors.As(err, &se) {
				if cerr := c.streamFailed(se); cerr != nil {
					return c.fail(cerr)
				}
				continue
			}
			return c.fail(err)
		}
	}
}

// nextFrameBuffered reports whether a whole frame is already buffered, so
// that reading it will not block.
func (c *conn) nextFrameBuffered() bool {
	n := c.br.Buffered()
	if n < frameHeaderLen {
		return false
	}
	h, _ := c.br.Peek(frameHeaderLen)
	return n >= frameHeaderLen+(int(h[0])<<16|int(h[1])<<8|int(h[2]))
}

// flushDeferred wakes the consumers and runs the role's work put off while
// buffered frames were read.
func (c *conn) flushDeferred() {
	for i, b := range c.deferredRecv {
		b.wake()
		c.deferredRecv[i] = nil
	}
	c.deferredRecv = c.deferredRecv[:0]
	c.role.flushDeferred()
}

// readError turns an error from the Framer into what ends the connection.
func (c *conn) readError(err error) error {
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &ce):
		reason := "malformed frame"
		if d := c.fr.ErrorDetail(); d != nil {
			reason = d.Error()
		}
		return connError{code: http2.ErrCode(ce), reason: reason}
	case errors.Is(err, http2.ErrFrameTooLarge):
		return connError{code: http2.ErrCodeFrameSize, reason: "frame larger than SETTINGS_MAX_FRAME_SIZE"}
	}
	return err
}

// fail ends the connection for err: a connection error says GOAWAY first.
func (c *conn) fail(err error) error {
	var ce connError
	if errors.As(err, &ce) {
		c.goAwayAndClose(ce.code, ce.reason, err)
		return err
	}
	if errors.Is(err, io.EOF) {
		err = errClosed
	}
	c.closeWithError(err)
	return err
}

// streamFailed answers a stream error with RST_STREAM and tells the role.
func (c *conn) streamFailed(se streamError) error {
	if err := c.answer("stream error"); err != nil {
		return err
	}
	c.mu.Lock()
	s := c.streams[se.id]
	c.mu.Unlock()
	if s != nil {
		s.reset(se.code, se)
		return nil
	}
	c.queueCtrl(ctrlFrame{kind: ctrlRSTStream, streamID: se.id, code: se.code})
	return nil
}

// handleFrame dispatches one frame.
func (c *conn) handleFrame(f http2.Frame) error {
	if !c.sawSettings {
		// The preface's SETTINGS must come first.
		sf, ok := f.(*http2.SettingsFrame)
		if !ok || sf.IsAck() {
			return connError{code: http2.ErrCodeProtocol, reason: "the first frame is not SETTINGS"}
		}
		c.sawSettings = true
		if c.server {
			// The handshake is over: lift its deadline.
			_ = c.nc.SetReadDeadline(time.Time{})
		}
	}
	switch f := f.(type) {
	case *http2.DataFrame:
		// Read by readDataFrame, except before the first SETTINGS.
		return connError{code: http2.ErrCodeProtocol, reason: "the first frame is not SETTINGS"}
	case *http2.HeadersFrame:
		// Read by readHeadersFrame, except before the first SETTINGS.
		return connError{code: http2.ErrCodeProtocol, reason: "the first frame is not SETTINGS"}
	case *http2.ContinuationFrame:
		return c.handleContinuation(f)
	case *http2.SettingsFrame:
		return c.handleSettings(f)
	case *http2.PingFrame:
		return c.handlePing(f)
	case *http2.WindowUpdateFrame:
		return c.handleWindowUpdate(f)
	case *http2.RSTStreamFrame:
		return c.handleRSTStream(f)
	case *http2.GoAwayFrame:
		if err := c.junk("GOAWAY"); err != nil {
			return err
		}
		c.role.onGoAway(f)
		return nil
	case *http2.PriorityFrame:
		if f.StreamDep == f.StreamID {
			return streamError{id: f.StreamID, code: http2.ErrCodeProtocol, reason: "stream depends on itself"}
		}
		return c.junk("PRIORITY")
	case *http2.PushPromiseFrame:
		return connError{code: http2.ErrCodeProtocol, reason: "PUSH_PROMISE is not allowed"}
	default:
		// Unknown frame types (extensions, and PRIORITY_UPDATE, which
		// the Framer parses) are ignored, as RFC 9113 section 5.5 says,
		// but not without limit.
		return c.junk("unknown frame")
	}
}

// handleData applies connection-level flow control, then hands the frame to
// the role.
// readDataFrame reads the payload of the DATA frame whose header the
// Framer has read and handles it. When the whole payload is already
// buffered, as it usually is, it is handed on straight from the read
// buffer: the Framer would first copy it into a buffer of its own.
func (c *conn) readDataFrame(fh http2.FrameHeader) error {
	n := int(fh.Length)
	var p []byte
	peeked := c.br.Buffered() >= n
	if peeked {
		p, _ = c.br.Peek(n)
	} else {
		if cap(c.dataPayload) < n {
			c.dataPayload = make([]byte, n)
		}
		p = c.dataPayload[:n]
		if _, err := io.ReadFull(c.br, p); err != nil {
			return err
		}
	}
	err := c.dataPayloadFrame(fh, p)
	if peeked {
		_, _ = c.br.Discard(n)
	}
	return err
}

// dataPayloadFrame checks a DATA frame's padding and handles its data.
func (c *conn) dataPayloadFrame(fh http2.FrameHeader, p []byte) error {
	if fh.StreamID == 0 {
		return connError{code: http2.ErrCodeProtocol, reason: "DATA frame with stream ID 0"}
	}
	if fh.Flags.Has(http2.FlagDataPadded) {
		if len(p) < 1 {
			return connError{code: http2.ErrCodeProtocol, reason: "DATA frame too short for its padding"}
		}
		pad := int(p[0])
		p = p[1:]
		if pad > len(p) {
			return connError{code: http2.ErrCodeProtocol, reason: "pad size larger than data payload"}
		}
		p = p[:len(p)-pad]
	}
	return c.handleData(fh, p)
}

func (c *conn) handleData(fh http2.FrameHeader, data []byte) error {
	end := fh.Flags.Has(http2.FlagDataEndStream)
	if !c.received(int64(fh.Length)) {
		return connError{code: http2.ErrCodeFlowControl, reason: "DATA beyond the connection window"}
	}
	if len(data) == 0 && !end {
		if err := c.junk("empty DATA frame"); err != nil {
			return err
		}
	}
	if c.bdp.enabled && c.bdp.onData(len(data)) {
		c.queueCtrl(ctrlFrame{kind: ctrlPing, data: bdpPingData})
	}
	err := c.role.onData(fh.StreamID, data, int(fh.Length), end)
	// The connection window goes back as the data is buffered, while the
	// streams' buffers are within the connection's budget (flow.go).
	c.returnConnWindow()
	return err
}

// maxSettingsPerFrame bounds the entries of one SETTINGS frame. HTTP/2
// defines seven settings and its extensions a few more; a frame with more
// entries than this costs work for nothing (net/http refuses them too).
const maxSettingsPerFrame = 100

// handleSettings applies the peer's SETTINGS and acknowledges them. Each
// frame costs an answer (defense.go), at most maxSettingsPerFrame entries,
// and one walk over the open streams however many INITIAL_WINDOW_SIZE
// entries it has.
func (c *conn) handleSettings(f *http2.SettingsFrame) error {
	if f.IsAck() {
		return c.junk("SETTINGS acknowledgement")
	}
	if err := c.answer("SETTINGS"); err != nil {
		return err
	}
	if f.NumSettings() > maxSettingsPerFrame {
		return connError{code: http2.ErrCodeEnhanceYourCalm, reason: "SETTINGS frame with too many entries"}
	}
	c.mu.Lock()
	// The stream windows move by the last INITIAL_WINDOW_SIZE; the largest
	// one decides whether any window would have passed 2^31-1 on the way.
	oldInitial := int64(c.peer.initialWindow)
	var maxInitial int64 = -1
	ferr := f.ForeachSetting(func(s http2.Setting) error {
		if verr := s.Valid(); verr != nil {
			var ce http2.ConnectionError
			if errors.As(verr, &ce) {
				return connError{code: http2.ErrCode(ce), reason: "invalid " + s.ID.String()}
			}
			return verr
		}
		switch s.ID {
		case http2.SettingHeaderTableSize:
			c.peer.headerTableSize = s.Val
			c.henc.SetMaxDynamicTableSizeLimit(s.Val)
		case http2.SettingEnablePush:
			if !c.server && s.Val != 0 {
				return connError{code: http2.ErrCodeProtocol, reason: "a server may not enable push"}
			}
		case http2.SettingMaxConcurrentStreams:
			c.peer.maxConcurrent = s.Val
		case http2.SettingInitialWindowSize:
			c.peer.initialWindow = int32(s.Val)
			maxInitial = max(maxInitial, int64(s.Val))
		case http2.SettingMaxFrameSize:
			c.peer.maxFrameSize = s.Val
		case http2.SettingMaxHeaderListSize:
			c.peer.maxHeaderList = s.Val
		}
		return nil
	})
	if ferr == nil && maxInitial >= 0 {
		delta := int64(c.peer.initialWindow) - oldInitial
		peak := maxInitial - oldInitial
		for _, st := range c.streams {
			if st.sendWindow+peak > math.MaxInt32 {
				ferr = connError{code: http2.ErrCodeFlowControl, reason: "SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window"}
				break
			}
			st.sendWindow += delta
		}
	}
	if ferr != nil {
		c.mu.Unlock()
		return ferr
	}
	c.peer.gotSettings = true
	c.role.settingsChangedLocked()
	wake := c.queueCtrlLocked(ctrlFrame{kind: ctrlSettingsAck})
	for _, st := range c.streams {
		if c.scheduleLocked(st) {
			wake = true
		}
	}
	overflow := c.ctrlOverflow
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	if overflow {
		return errControlFlood
	}
	return nil
}

// Distinct PING payloads tell apart what a PING acknowledgement answers.
var (
	bdpPingData       = [8]byte{'b', 'd', 'p', 0, 0, 0, 0, 1}
	keepalivePingData = [8]byte{'k', 'e', 'e', 'p', 0, 0, 0, 2}
)

func (c *conn) handlePing(f *http2.PingFrame) error {
	if f.IsAck() {
		switch f.Data {
		case bdpPingData:
			if inc, ok := c.bdp.onAck(time.Now(), c.streamWindow.v.Load()); ok {
				c.growWindows(inc)
			}
		case keepalivePingData:
			c.pingSent.Store(0)
		default:
			if !c.role.onPingAck(f.Data) {
				return c.junk("unsolicited PING acknowledgement")
			}
		}
		return nil
	}
	c.mu.Lock()
	free := c.freePingLocked()
	sent := c.sentSincePing
	c.sentSincePing = false
	c.mu.Unlock()
	if c.server {
		if err := c.enforcePing(time.Now(), sent); err != nil {
			return err
		}
	}
	if !free {
		if err := c.answer("PING"); err != nil {
			return err
		}
	}
	c.mu.Lock()
	wake := c.queueCtrlLocked(ctrlFrame{kind: ctrlPingAck, data: f.Data})
	overflow := c.ctrlOverflow
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	if overflow {
		return errControlFlood
	}
	return nil
}

func (c *conn) handleWindowUpdate(f *http2.WindowUpdateFrame) error {
	inc := int64(f.Increment)
	c.mu.Lock()
	if f.StreamID == 0 {
		c.sendWindow += inc
		if c.sendWindow > math.MaxInt32 {
			c.mu.Unlock()
			return connError{code: http2.ErrCodeFlowControl, reason: "connection window above 2^31-1"}
		}
		wake := false
		if c.sendWindow > 0 {
			blocked := c.connBlocked
			c.connBlocked = c.connBlocked[:0]
			for _, s := range blocked {
				s.connBlocked = false
				if c.scheduleLocked(s) {
					wake = true
				}
			}
			clear(blocked[len(c.connBlocked):cap(blocked)])
		}
		c.mu.Unlock()
		if wake {
			c.wakeWriter()
		}
		return nil
	}
	s := c.streams[f.StreamID]
	if s == nil {
		c.mu.Unlock()
		if c.role.idle(f.StreamID) {
			return connError{code: http2.ErrCodeProtocol, reason: "WINDOW_UPDATE on an idle stream"}
		}
		return nil // a closed stream: ignore
	}
	s.sendWindow += inc
	if s.sendWindow > math.MaxInt32 {
		c.mu.Unlock()
		return streamError{id: f.StreamID, code: http2.ErrCodeFlowControl, reason: "stream window above 2^31-1"}
	}
	wake := c.scheduleLocked(s)
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	return nil
}

func (c *conn) handleRSTStream(f *http2.RSTStreamFrame) error {
	if c.role.idle(f.StreamID) {
		return connError{code: http2.ErrCodeProtocol, reason: "RST_STREAM on an idle stream"}
	}
	return c.role.onRSTStream(f)
}

// goAwayAndClose says GOAWAY with code and closes the connection once it
// is written; streams fail with err at once.
func (c *conn) goAwayAndClose(code http2.ErrCode, reason string, err error) {
	c.mu.Lock()
	if !c.writeClosed && !c.lingerAfterFlush {
		// Nothing else goes out: drop what is queued.
		for i := range c.ctrl {
			if c.ctrl[i].fields != nil {
				putFieldList(c.ctrl[i].fields)
			}
			c.ctrl[i] = ctrlFrame{}
		}
		c.ctrl = append(c.ctrl[:0], ctrlFrame{kind: ctrlGoAway, n: c.role.lastStreamID(), code: code, debug: reason})
		for c.ready.pop() != nil {
		}
		c.lingerAfterFlush = true
	}
	wake := c.signalWriterLocked()
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	c.failAll(err)
}

// lingerClose shuts the connection down after a final GOAWAY: it closes
// the write side, then reads and discards what the peer still sends for a
// moment, so that closing does not reset the connection under the GOAWAY
// before the peer has read it.
func (c *conn) lingerClose() {
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := c.nc.(closeWriter); ok {
		_ = cw.CloseWrite()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	t := time.NewTimer(2 * time.Second)
	select {
	case <-c.readerDone:
	case <-t.C:
	}
	t.Stop()
	c.closeWithError(errClosed)
}

// failAll fails every stream with err, once, and tells the role; frames
// other than an already queued final GOAWAY are no longer written. It does
// not close the socket.
func (c *conn) failAll(err error) {
	c.failOnce.Do(func() {
		c.mu.Lock()
		if c.closeErr == nil {
			c.closeErr = err
		}
		err = c.closeErr
		streams := make([]*stream, 0, len(c.streams))
		for _, s := range c.streams {
			streams = append(streams, s)
			s.failSendLocked(err)
		}
		clear(c.streams)
		c.mu.Unlock()
		for _, s := range streams {
			s.recv.fail(err)
		}
		c.role.connClosed(err, streams)
	})
}

// closeWithError closes the connection and fails whatever it carried. It
// may be called more than once and from any goroutine.
func (c *conn) closeWithError(err error) {
	c.failAll(err)
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.writeClosed = true
		wake := c.signalWriterLocked()
		c.mu.Unlock()
		if wake {
			c.wakeWriter()
		}
		_ = c.nc.Close()
		if c.timer != nil {
			c.timer.Stop()
		}
		close(c.closed)
	})
}

// startTimer arms the connection's timer for its timeouts.
func (c *conn) startTimer() {
	period := time.Second
	k := c.limits.keepalive
	for _, d := range []time.Duration{c.limits.handshakeTimeout, k.pingInterval, k.pingTimeout, k.maxAge, k.maxAgeGrace, c.limits.flowControlTimeout, c.limits.writeStallTimeout, c.limits.idleTimeout} {
		if d > 0 && d/4 < period {
			period = d / 4
		}
	}
	c.timerPeriod = max(period, 10*time.Millisecond)
	c.timer.Reset(c.timerPeriod)
}

// onTimer checks the connection's timeouts.
func (c *conn) onTimer() {
	select {
	case <-c.closed:
		return
	default:
	}
	now := time.Now()
	lim := c.limits
	if start := c.blockStart.Load(); start != 0 && lim.handshakeTimeout > 0 && now.Sub(time.Unix(0, start)) > lim.handshakeTimeout {
		c.closeWithError(errors.New("h2: the peer did not finish a header block in time"))
		return
	}
	c.mu.Lock()
	flushing := c.flushing
	var stalled []*stream
	var connStalled bool
	if lim.flowControlTimeout > 0 {
		for _, s := range c.streams {
			if !s.blockedSince.IsZero() && now.Sub(s.blockedSince) > lim.flowControlTimeout {
				if s.sendWindow <= 0 {
					stalled = append(stalled, s)
				} else {
					connStalled = true
				}
			}
		}
	}
	c.mu.Unlock()
	if lim.writeStallTimeout > 0 && !flushing.IsZero() && now.Sub(flushing) > lim.writeStallTimeout {
		c.closeWithError(errors.New("h2: the peer stopped reading: a write did not complete in time"))
		return
	}
	if connStalled {
		c.goAwayAndClose(http2.ErrCodeFlowControl, "the connection window stayed shut", errors.New("h2: the peer kept the connection's flow-control window shut"))
		return
	}
	for _, s := range stalled {
		s.reset(http2.ErrCodeCancel, errors.New("h2: the peer kept the stream's flow-control window shut"))
	}
	if !c.keepaliveTick(now) {
		return
	}
	c.role.tick(now)
	select {
	case <-c.closed:
	default:
		c.timer.Reset(c.timerPeriod)
	}
}
