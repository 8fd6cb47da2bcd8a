package dns

import (
	"container/list"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Cache defaults.
const (
	DefaultCacheSize      = 10000
	DefaultCacheMaxTTL    = time.Hour
	DefaultCacheMaxNegTTL = 5 * time.Minute
)

// Cache keeps the answers of the next plugin (the forwarder) in a bounded
// LRU for as long as their TTLs allow. Positive answers live for their
// smallest TTL, capped at MaxTTL. Negative answers (NXDOMAIN, NODATA) are
// cached per RFC 2308 §5 for the smaller of their SOA's TTL and MINIMUM,
// capped at MaxNegTTL, and not at all without an SOA. Truncated answers,
// server failures, refusals and TTLs of zero are never cached. Answers
// served from the cache carry the TTL they have left.
type Cache struct {
	Next      Handler
	Size      int           // entries kept, at least 1
	MaxTTL    time.Duration // cap on positive answers
	MaxNegTTL time.Duration // cap on negative answers
	Now       func() time.Time

	mu    sync.Mutex
	items map[cacheKey]*list.Element
	lru   list.List // front: most recently used *cacheEntry

	hits, misses atomic.Uint64
}

type cacheKey struct {
	name          string // lowercase
	qtype, qclass uint16
	do, cd        bool
}

type cacheEntry struct {
	key     cacheKey
	msg     *dns.Msg // never changed once stored; copied on every hit
	stored  time.Time
	expires time.Time
}

// NewCache returns the cache plugin holding up to size answers.
func NewCache(size int, maxTTL, maxNegTTL time.Duration, now func() time.Time) Plugin {
	return func(next Handler) Handler {
		return &Cache{Next: next, Size: max(1, size), MaxTTL: maxTTL, MaxNegTTL: maxNegTTL, Now: now}
	}
}

// Name implements Handler.
func (c *Cache) Name() string { return "cache" }

// ServeDNS implements Handler.
func (c *Cache) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	k := keyOf(r)
	if m := c.get(k, c.Now()); m != nil {
		c.hits.Add(1)
		m.Id = r.Id
		if err := w.WriteMsg(m); err != nil {
			return dns.RcodeServerFailure, err
		}
		return m.Rcode, nil
	}
	c.misses.Add(1)
	return c.Next.ServeDNS(ctx, &cacheWriter{ResponseWriter: w, cache: c, key: k}, r)
}

func keyOf(r *dns.Msg) cacheKey {
	q := r.Question[0]
	k := cacheKey{name: strings.ToLower(q.Name), qtype: q.Qtype, qclass: q.Qclass, cd: r.CheckingDisabled}
	if opt := r.IsEdns0(); opt != nil {
		k.do = opt.Do()
	}
	return k
}

// get returns a copy of the cached answer with its TTLs aged, or nil.
func (c *Cache) get(k cacheKey, now time.Time) *dns.Msg {
	c.mu.Lock()
	el, ok := c.items[k]
	if !ok {
		c.mu.Unlock()
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.lru.Remove(el)
		delete(c.items, k)
		c.mu.Unlock()
		return nil
	}
	c.lru.MoveToFront(el)
	c.mu.Unlock()

	m := e.msg.Copy()
	age := uint32(now.Sub(e.stored) / time.Second)
	left := uint32((e.expires.Sub(now) + time.Second - 1) / time.Second)
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			h := rr.Header()
			h.Ttl = min(left, h.Ttl-min(h.Ttl, age))
		}
	}
	return m
}

func (c *Cache) set(k cacheKey, m *dns.Msg, now time.Time) {
	ttl, ok := cacheTTL(m, c.MaxTTL, c.MaxNegTTL)
	if !ok {
		return
	}
	stored := m.Copy()
	stored.Extra = withoutOPT(stored.Extra)
	e := &cacheEntry{key: k, msg: stored, stored: now, expires: now.Add(ttl)}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = make(map[cacheKey]*list.Element)
	}
	if el, ok := c.items[k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.items[k] = c.lru.PushFront(e)
	for c.lru.Len() > c.Size {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// Len returns the number of cached answers, expired ones not yet evicted
// included.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// cacheTTL says how long m may be cached.
func cacheTTL(m *dns.Msg, maxTTL, maxNegTTL time.Duration) (time.Duration, bool) {
	if m.Truncated || !m.Response || len(m.Question) != 1 {
		return 0, false
	}
	negative := m.Rcode == dns.RcodeNameError || (m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0)
	if !negative && m.Rcode != dns.RcodeSuccess {
		return 0, false
	}
	ttl, any := ^uint32(0), false
	for _, s := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range s {
			h := rr.Header()
			if h.Rrtype == dns.TypeOPT {
				continue
			}
			ttl, any = min(ttl, h.Ttl), true
			if soa, ok := rr.(*dns.SOA); ok && negative {
				ttl = min(ttl, soa.Minttl)
			}
		}
	}
	limit := maxTTL
	if negative {
		if !hasSOA(m.Ns) {
			return 0, false // RFC 2308 §5: no SOA, no negative caching
		}
		limit = maxNegTTL
	}
	if !any || ttl == 0 {
		return 0, false
	}
	return min(time.Duration(ttl)*time.Second, limit), true
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// cacheWriter stores what the next plugin writes, then passes it on.
type cacheWriter struct {
	dns.ResponseWriter
	cache *Cache
	key   cacheKey
}

func (cw *cacheWriter) WriteMsg(m *dns.Msg) error {
	cw.cache.set(cw.key, m, cw.cache.Now())
	return cw.ResponseWriter.WriteMsg(m)
}

var (
	_ Handler            = (*Cache)(nil)
	_ dns.ResponseWriter = (*cacheWriter)(nil)
)
