package dns

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/miekg/dns"
)

// ErrNoIndex is returned for cluster names asked before the first index was
// set: the server answers SERVFAIL rather than a wrong NXDOMAIN that clients
// would cache.
var ErrNoIndex = errors.New("no service index yet")

// Kubernetes answers the cluster zone and the reverse names of the cluster's
// addresses from the current Index; every other question goes to the next
// plugin. ExternalName CNAMEs pointing outside the zone are resolved through
// the next plugin and the answers appended, as CoreDNS's kubernetes plugin
// does with its upstream.
type Kubernetes struct {
	Next  Handler
	Zone  string // lowercase FQDN
	TTL   uint32
	Index *atomic.Pointer[Index]

	rotation atomic.Uint32 // round-robin start of address answers
}

// NewKubernetes returns the kubernetes plugin over the index held by ix.
func NewKubernetes(zone string, ttl uint32, ix *atomic.Pointer[Index]) Plugin {
	return func(next Handler) Handler {
		return &Kubernetes{Next: next, Zone: dns.CanonicalName(zone), TTL: ttl, Index: ix}
	}
}

// Name implements Handler.
func (k *Kubernetes) Name() string { return "kubernetes" }

// ServeDNS implements Handler.
func (k *Kubernetes) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	q := r.Question[0]
	ix := k.Index.Load()
	if ix == nil {
		if inZone(k.Zone, lowerFQDN(q.Name)) {
			return dns.RcodeServerFailure, ErrNoIndex
		}
		return k.Next.ServeDNS(ctx, w, r)
	}
	res, ok := ix.Lookup(q.Name, q.Qtype, k.TTL)
	if !ok {
		return k.Next.ServeDNS(ctx, w, r)
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	m.Rcode = res.Rcode
	m.Answer, m.Ns, m.Extra = res.Answer, res.Ns, res.Extra
	var err error
	if res.Chase != "" {
		err = k.chase(ctx, w, m, res.Chase, q.Qtype)
	}
	k.rotate(m.Answer)
	if werr := w.WriteMsg(m); werr != nil {
		return dns.RcodeServerFailure, fmt.Errorf("kubernetes: write %s: %w", q.Name, werr)
	}
	return m.Rcode, err
}

// chase resolves an ExternalName target through the rest of the chain and
// completes m with it: its answers, rcode and, for a negative answer, its
// authority. On failure m keeps the CNAME and says SERVFAIL.
func (k *Kubernetes) chase(ctx context.Context, w dns.ResponseWriter, m *dns.Msg, target string, qtype uint16) error {
	sub := new(dns.Msg)
	sub.SetQuestion(target, qtype)
	cw := &captureWriter{ResponseWriter: w}
	rcode, err := k.Next.ServeDNS(ctx, cw, sub)
	if cw.msg == nil {
		m.Rcode = dns.RcodeServerFailure
		if err == nil {
			err = fmt.Errorf("rcode %s", dns.RcodeToString[rcode])
		}
		return fmt.Errorf("kubernetes: resolve externalName %s: %w", target, err)
	}
	m.Rcode = cw.msg.Rcode
	m.Answer = append(m.Answer, cw.msg.Answer...)
	if len(cw.msg.Answer) == 0 {
		m.Ns = cw.msg.Ns
	}
	return err
}

// rotate turns a run of two or more address records at the end of an
// answer by one place per query, so clients that take the first address
// spread over a headless service's endpoints (CoreDNS's loadbalance).
func (k *Kubernetes) rotate(answer []dns.RR) {
	i := len(answer)
	for i > 0 {
		t := answer[i-1].Header().Rrtype
		if t != dns.TypeA && t != dns.TypeAAAA {
			break
		}
		i--
	}
	run := answer[i:]
	if len(run) < 2 {
		return
	}
	n := int(k.rotation.Add(1) % uint32(len(run)))
	rotateLeft(run, n)
}

func rotateLeft(rrs []dns.RR, n int) {
	reverse := func(s []dns.RR) {
		for a, b := 0, len(s)-1; a < b; a, b = a+1, b-1 {
			s[a], s[b] = s[b], s[a]
		}
	}
	reverse(rrs[:n])
	reverse(rrs[n:])
	reverse(rrs)
}

var _ Handler = (*Kubernetes)(nil)
