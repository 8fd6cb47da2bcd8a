package relay

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Limits of a relay.
const (
	// DialTimeout bounds connecting to the upstream.
	DialTimeout = 5 * time.Second
	// UDPTimeout is how long an answer to one datagram is waited for.
	UDPTimeout = 5 * time.Second
	// MaxUDPInFlight bounds the datagrams waiting for an answer; more
	// are dropped (their clients retry, as DNS clients do).
	MaxUDPInFlight = 256
)

// TCP forwards each accepted connection to Upstream.
type TCP struct {
	Upstream string
	ln       net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ListenTCP listens on addr for a TCP relay to upstream.
func ListenTCP(addr, upstream string) (*TCP, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", upstream, err)
	}
	return &TCP{Upstream: upstream, ln: ln, conns: map[net.Conn]struct{}{}}, nil
}

// Addr is the address the relay listens on.
func (r *TCP) Addr() net.Addr { return r.ln.Addr() }

// Serve accepts connections until Close; it returns nil after Close.
func (r *TCP) Serve() error {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if r.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("relay to %s: %w", r.Upstream, err)
		}
		if !r.track(c) {
			c.Close()
			return nil
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.untrack(c)
			r.pipe(c)
		}()
	}
}

func (r *TCP) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", r.Upstream, DialTimeout)
	if err != nil {
		return // the client sees its connection close
	}
	if !r.track(up) {
		up.Close()
		return
	}
	defer r.untrack(up)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
}

func (r *TCP) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *TCP) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

func (r *TCP) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Close stops listening, closes every relayed connection and waits for
// their goroutines.
func (r *TCP) Close() error {
	r.mu.Lock()
	r.closed = true
	err := r.ln.Close()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}

// UDP forwards each datagram to Upstream from a socket of its own and
// sends the answer back to its client: a request/response relay (DNS).
type UDP struct {
	Upstream string
	pc       net.PacketConn
	sem      chan struct{}

	mu     sync.Mutex
	closed bool
	ups    map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// ListenUDP listens on addr for a UDP relay to upstream.
func ListenUDP(addr, upstream string) (*UDP, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("relay to %s: %w", upstream, err)
	}
	return &UDP{Upstream: upstream, pc: pc, sem: make(chan struct{}, MaxUDPInFlight), ups: map[net.Conn]struct{}{}}, nil
}

// Addr is the address the relay listens on.
func (r *UDP) Addr() net.Addr { return r.pc.LocalAddr() }

// Serve relays datagrams until Close; it returns nil after Close.
func (r *UDP) Serve() error {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			r.mu.Lock()
			closed := r.closed
			r.mu.Unlock()
			if closed {
				return nil
			}
			return fmt.Errorf("relay to %s: %w", r.Upstream, err)
		}
		select {
		case r.sem <- struct{}{}:
		default:
			continue // too many in flight: drop
		}
		msg := append([]byte(nil), buf[:n]...)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-r.sem }()
			r.exchange(msg, from)
		}()
	}
}

func (r *UDP) exchange(msg []byte, from net.Addr) {
	up, err := net.Dial("udp", r.Upstream)
	if err != nil {
		return
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		up.Close()
		return
	}
	r.ups[up] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.ups, up)
		r.mu.Unlock()
		up.Close()
	}()
	_ = up.SetDeadline(time.Now().Add(UDPTimeout))
	if _, err := up.Write(msg); err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	n, err := up.Read(buf)
	if err != nil {
		return
	}
	_, _ = r.pc.WriteTo(buf[:n], from)
}

// Close stops the relay and waits for the datagrams in flight.
func (r *UDP) Close() error {
	r.mu.Lock()
	r.closed = true
	err := r.pc.Close()
	for c := range r.ups {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return err
}
