package dns

import (
	"context"
	"errors"

	"github.com/miekg/dns"
)

// Handler is one link of the plugin chain, in CoreDNS's shape. ServeDNS
// either writes a response to w and returns its rcode, or writes nothing and
// returns an error rcode (SERVFAIL, REFUSED, FORMERR, NOTIMP) for the server
// to answer with. The returned error is for logging; the client never sees it.
type Handler interface {
	ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error)
	Name() string
}

// Plugin wraps the next handler of the chain.
type Plugin func(next Handler) Handler

// ErrNoNext is returned by the end of the chain: no plugin answered.
var ErrNoNext = errors.New("no next plugin")

// Chain assembles plugins in order: the first one sees every query first.
// The end of the chain answers SERVFAIL with ErrNoNext.
func Chain(plugins ...Plugin) Handler {
	var h Handler = endOfChain{}
	for i := len(plugins) - 1; i >= 0; i-- {
		h = plugins[i](h)
	}
	return h
}

type endOfChain struct{}

func (endOfChain) ServeDNS(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) {
	return dns.RcodeServerFailure, ErrNoNext
}

func (endOfChain) Name() string { return "end" }

// clientWrote reports whether a handler returning rcode has written the
// response itself, as CoreDNS's plugin.ClientWrite: error rcodes are left for
// the server to write.
func clientWrote(rcode int) bool {
	switch rcode {
	case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeFormatError, dns.RcodeNotImplemented:
		return false
	}
	return true
}

// captureWriter keeps the message a handler writes instead of sending it.
// Plugins use it to look at (or add to) what the rest of the chain answers.
type captureWriter struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (c *captureWriter) WriteMsg(m *dns.Msg) error {
	c.msg = m
	return nil
}

func (c *captureWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	c.msg = m
	return len(b), nil
}

var (
	_ Handler            = endOfChain{}
	_ dns.ResponseWriter = (*captureWriter)(nil)
)
