package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"polyconnect.dev/protocol/transport"
	nethttp "polyconnect.dev/transport-nethttp"
)

// serve runs one replica until it is killed: an h2c server (HTTP/2 with
// prior knowledge and HTTP/1.1 on one port) on addr. It prints
// "listening ADDR" once bound. SIGUSR1 resets one of its connections at
// random (an RST, as a crashed middlebox would), SIGUSR2 all of them.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	name := fs.String("name", "replica", "name sent in the Replica response header")
	_ = fs.Parse(args)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	tl := &trackingListener{Listener: ln, conns: map[*net.TCPConn]struct{}{}}
	srv, err := nethttp.NewServer(transport.Config{Name: transport.NameH2C}, serviceMux(*name), nethttp.WithListener(tl))
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Printf("listening %s\n", ln.Addr())

	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT)
	for sig := range sigs {
		switch sig {
		case syscall.SIGUSR1:
			tl.reset(false)
		case syscall.SIGUSR2:
			tl.reset(true)
		default:
			return srv.Close()
		}
	}
	return nil
}

// trackingListener remembers the open connections so that they can be
// reset.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[*net.TCPConn]struct{}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c, nil
	}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return &trackedConn{TCPConn: tc, l: l}, nil
}

// reset closes one connection at random, or all, with an RST.
func (l *trackingListener) reset(all bool) {
	l.mu.Lock()
	var victims []*net.TCPConn
	for c := range l.conns {
		victims = append(victims, c)
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return
	}
	if !all {
		victims = victims[rand.IntN(len(victims)):][:1]
	}
	for _, c := range victims {
		_ = c.SetLinger(0)
		_ = c.Close()
	}
}

type trackedConn struct {
	*net.TCPConn
	l    *trackingListener
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c.TCPConn)
		c.l.mu.Unlock()
	})
	return c.TCPConn.Close()
}
