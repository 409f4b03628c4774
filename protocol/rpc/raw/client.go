package raw

import (
	"context"
	"errors"
	"net/http"

	"polyconnect.dev/protocol/rpc"
	"polyconnect.dev/protocol/rpc/internal/rawlink"
)

// Client calls one procedure with messages whose Go types rpc does not
// know: the caller passes the request and the response to fill as
// proto.Message values (or any message its codec takes). It speaks every
// protocol and takes every rpc.ClientOption, as rpc.Client does, and is safe
// for concurrent use.
type Client struct {
	spec   rpc.Spec
	invoke func(ctx context.Context, req, res any) error
	open   func(ctx context.Context) (rpc.StreamingClientConn, error)
}

var newRawClient = rawlink.NewClient.(func(rpc.HTTPClient, string, rpc.Spec, []rpc.ClientOption) (
	func(context.Context, any, any) error, func(context.Context) (rpc.StreamingClientConn, error)))

// NewClient returns a client for the procedure spec.Procedure at baseURL,
// as rpc.NewClient does.
func NewClient(httpClient rpc.HTTPClient, baseURL string, spec rpc.Spec, opts ...rpc.ClientOption) *Client {
	invoke, open := newRawClient(httpClient, baseURL, spec, opts)
	return &Client{spec: spec, invoke: invoke, open: open}
}

// Spec returns the procedure the client calls.
func (c *Client) Spec() rpc.Spec { return c.spec }

// Invoke makes a unary call: it sends req and decodes the response into res.
// Request headers come from a CallInfo attached with rpc.NewClientContext,
// which also receives the response headers and trailers. An interceptor that
// returns a response other than res has it merged into res.
func (c *Client) Invoke(ctx context.Context, req, res any) error { return c.invoke(ctx, req, res) }

// NewStream opens a streaming call (of the client's spec's kind) through the
// interceptors. Errors of the call itself surface on Send and Receive; the
// request goes out with the first Send, CloseRequest or Receive.
func (c *Client) NewStream(ctx context.Context) (rpc.StreamingClientConn, error) {
	return c.open(ctx)
}

// ErrHeaderWaitUnsupported is returned by WaitResponseHeader for a stream
// that cannot wait for its response headers alone: one an interceptor
// wrapped without implementing the wait itself.
var ErrHeaderWaitUnsupported = errors.New("rpc: this stream cannot wait for its response headers")

// headerWaiter is implemented by the streams of every protocol, and may be
// implemented by an interceptor's stream that wraps one.
type headerWaiter interface {
	WaitResponseHeader() (http.Header, error)
}

// WaitResponseHeader waits until the response headers of the streaming call
// conn have arrived (starting the call if no message has been sent yet) and
// returns them, without reading a message. It belongs to the response side
// of the stream: it must not run concurrently with Receive. It returns the
// call's error if the call failed before the headers came, and
// ErrHeaderWaitUnsupported if conn cannot wait (a stream wrapped by an
// interceptor can, by implementing WaitResponseHeader() (http.Header,
// error) itself).
func WaitResponseHeader(conn rpc.StreamingClientConn) (http.Header, error) {
	w, ok := conn.(headerWaiter)
	if !ok {
		return nil, ErrHeaderWaitUnsupported
	}
	return w.WaitResponseHeader()
}
