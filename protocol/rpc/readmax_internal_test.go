package rpc

import "testing"

// WithReadMaxBytes(0) means the default limit; only a negative value
// removes it (internally 0 is "no limit").
func TestReadMaxBytesZeroMeansDefault(t *testing.T) {
	spec := Spec{Procedure: "/t.v1.S/M"}
	cases := []struct {
		opt  int64
		want int64
	}{
		{0, DefaultReadMaxBytes},
		{-1, 0},
		{1024, 1024},
	}
	for _, c := range cases {
		h, _ := newHandler(spec, []HandlerOption{WithReadMaxBytes(c.opt)})
		if h.readMax != c.want {
			t.Errorf("handler WithReadMaxBytes(%d): limit %d, want %d", c.opt, h.readMax, c.want)
		}
		cl := NewClient[struct{}, struct{}](nil, "http://127.0.0.1:1", spec, WithReadMaxBytes(c.opt))
		if got := clientReadMax(cl.proto); got != c.want {
			t.Errorf("client WithReadMaxBytes(%d): limit %d, want %d", c.opt, got, c.want)
		}
	}
}

func clientReadMax(p protocolClient) int64 {
	switch c := p.(type) {
	case *connectClient:
		return c.p.readMax
	case *grpcClient:
		return c.p.readMax
	}
	return -2
}
