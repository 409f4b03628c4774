package rpc

import (
	"errors"
	"io"
	"iter"
)

// receiveAll turns a Receive function into an iterator that stops silently
// at io.EOF and yields a final (nil, err) on any other error.
func receiveAll[T any](receive func(any) error) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for {
			msg := new(T)
			if err := receive(msg); err != nil {
				if !errors.Is(err, io.EOF) {
					yield(nil, err)
				}
				return
			}
			if !yield(msg, nil) {
				return
			}
		}
	}
}
