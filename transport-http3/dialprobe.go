package h3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// A QUIC client sends its Initial from a socket that is not connected, so
// when nothing listens on the server's port, the ICMP "port unreachable"
// that comes back never reaches it, and the dial waits for its handshake
// or dial timeout (seconds) where a TCP client would have been refused at
// once. probeRefused sends one empty datagram to the same address from a
// connected UDP socket of its own while the dial runs (again after 50 ms,
// 100 ms and so on, up to once a second): the kernel turns
// the ICMP answer into ECONNREFUSED on that socket, and the dial is
// cancelled with that cause. A QUIC server drops a datagram too short to be
// a packet, and where ICMP is filtered nothing changes.

// errNothingListening is the dial error when the probe is refused; it
// wraps syscall.ECONNREFUSED, as a refused TCP dial does.
var errNothingListening = fmt.Errorf("nothing listens on that UDP port: %w", syscall.ECONNREFUSED)

// probeRefused starts the probe; cancel is called with errNothingListening
// if addr refuses it. The returned function stops the probe.
func probeRefused(addr *net.UDPAddr, cancel context.CancelCauseFunc) (stop func()) {
	conn, err := net.DialUDP("udp", nil, addr)
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The kernel may drop the ICMP answer (it limits how many it
		// sends a second), so the probe goes again, less and less often,
		// until the dial ends.
		buf := make([]byte, 1)
		for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
			if _, err := conn.Write([]byte{0}); err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					cancel(errNothingListening)
				}
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(wait))
			_, err := conn.Read(buf)
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				cancel(errNothingListening)
				return
			case errors.Is(err, os.ErrDeadlineExceeded):
				continue
			case err != nil:
				return // stop closed the socket
			}
		}
	}()
	return func() {
		_ = conn.Close()
		<-done
	}
}
