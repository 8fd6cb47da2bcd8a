package dns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Forward defaults.
const (
	DefaultUpstreamTimeout = 2 * time.Second
	DefaultMaxForwards     = 512
	// upstreamUDPSize is the EDNS0 buffer size we advertise upstream, the
	// DNS flag day 2020 value that avoids IP fragmentation.
	upstreamUDPSize = 1232
)

// Errors of the forward plugin.
var (
	// ErrOverloaded: MaxConcurrent queries are already upstream; the query
	// is refused at once, as CoreDNS's forward max_concurrent does.
	ErrOverloaded = errors.New("too many concurrent upstream queries")
	// ErrNoUpstreams: there is nowhere to forward to.
	ErrNoUpstreams = errors.New("no upstream resolvers")
	// ErrBadResponse: an upstream answered another question.
	ErrBadResponse = errors.New("upstream response does not match the query")
)

// Exchanger sends one query to one upstream over network "udp" or "tcp" and
// returns the response. It must give up when ctx is done.
type Exchanger func(ctx context.Context, m *dns.Msg, network, addr string) (*dns.Msg, error)

// Forward sends every question it gets to upstream resolvers: UDP first,
// TCP when the UDP answer is truncated; each attempt bounded by Timeout,
// upstreams tried in turn (starting from a rotating one) until one answers
// with anything but SERVFAIL or REFUSED. At most MaxConcurrent queries are
// upstream at once; more are refused at once, so a flood cannot pile up
// goroutines or sockets. It is the end of the chain.
type Forward struct {
	Upstreams     []string // ip:port
	Timeout       time.Duration
	MaxConcurrent int
	Exchange      Exchanger

	sem  chan struct{}
	next atomic.Uint32
}

// NewForward returns the forward plugin. exchange nil means real UDP and TCP
// exchanges (NetExchange).
func NewForward(upstreams []string, timeout time.Duration, maxConcurrent int, exchange Exchanger) Plugin {
	if exchange == nil {
		exchange = NetExchange
	}
	return func(Handler) Handler {
		return &Forward{
			Upstreams:     upstreams,
			Timeout:       timeout,
			MaxConcurrent: maxConcurrent,
			Exchange:      exchange,
			sem:           make(chan struct{}, max(1, maxConcurrent)),
		}
	}
}

// NetExchange exchanges m with addr over the network with miekg/dns's client.
func NetExchange(ctx context.Context, m *dns.Msg, network, addr string) (*dns.Msg, error) {
	c := &dns.Client{Net: network}
	r, _, err := c.ExchangeContext(ctx, m, addr)
	return r, err
}

// Name implements Handler.
func (f *Forward) Name() string { return "forward" }

// ServeDNS implements Handler.
func (f *Forward) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	default:
		return dns.RcodeRefused, ErrOverloaded
	}
	q := r.Question[0]
	if len(f.Upstreams) == 0 {
		return dns.RcodeServerFailure, fmt.Errorf("forward %s: %w", q.Name, ErrNoUpstreams)
	}
	m := new(dns.Msg)
	m.Id = dns.Id()
	m.Question = []dns.Question{q}
	m.RecursionDesired = true
	m.CheckingDisabled = r.CheckingDisabled
	do := false
	if opt := r.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	m.SetEdns0(upstreamUDPSize, do)

	start := int(f.next.Add(1))
	var (
		errs []error
		last *dns.Msg
	)
	for i := range f.Upstreams {
		addr := f.Upstreams[(start+i)%len(f.Upstreams)]
		resp, err := f.try(ctx, m, addr)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		last = resp
		if resp.Rcode != dns.RcodeServerFailure && resp.Rcode != dns.RcodeRefused {
			break
		}
	}
	if last == nil {
		return dns.RcodeServerFailure, fmt.Errorf("forward %s %s: %w", q.Name, dns.TypeToString[q.Qtype], errors.Join(errs...))
	}
	last.Id = r.Id
	if err := w.WriteMsg(last); err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("forward %s: write: %w", q.Name, err)
	}
	return last.Rcode, nil
}

func (f *Forward) try(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	resp, err := f.Exchange(ctx, m, "udp", addr)
	if err == nil && resp.Truncated {
		resp, err = f.Exchange(ctx, m, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", addr, err)
	}
	if !matches(m, resp) {
		return nil, fmt.Errorf("%s: %w", addr, ErrBadResponse)
	}
	return resp, nil
}

func matches(q, r *dns.Msg) bool {
	if r == nil || !r.Response || r.Id != q.Id || len(r.Question) != 1 {
		return false
	}
	a, b := q.Question[0], r.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// ParseUpstream normalizes an upstream resolver: an IP address ("10.0.0.2",
// port 53), an IP and port ("10.0.0.2:5353", "[fd00::2]:53"), optionally
// prefixed with "dns://" as in CoreDNS.
func ParseUpstream(s string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "dns://")
	if ip, err := netip.ParseAddr(t); err == nil {
		return netip.AddrPortFrom(ip, 53).String(), nil
	}
	ap, err := netip.ParseAddrPort(t)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("upstream %q: want an IP address, optionally with a port", s)
	}
	return ap.String(), nil
}

var _ Handler = (*Forward)(nil)
