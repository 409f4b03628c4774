package rpc

import (
	"context"
	"io"
	"net/http"
	"time"
)

// endedDrainWait bounds how long closing a stream whose response was read
// to its protocol end waits for the body's last bytes (an HTTP/1.1 chunked
// terminator, HTTP/2 END_STREAM), which a server sends together with that
// end. It keeps a server that holds the body open from blocking Close: the
// call is canceled instead, and only connection reuse is lost.
const endedDrainWait = 500 * time.Millisecond

// drainEnded reads what remains of a response body whose protocol end has
// been read, so that an HTTP/1.1 connection can serve another call. It reads
// at most 4 KiB, and cancels the call if the body has not ended within
// endedDrainWait.
func drainEnded(res *http.Response, cancel context.CancelFunc) {
	t := time.AfterFunc(endedDrainWait, cancel)
	_, _ = io.CopyN(io.Discard, res.Body, 4<<10)
	t.Stop()
}
