package xds

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// resource is one translated resource, marshaled once and shared by every
// proxy (and view) that is sent it.
type resource struct {
	name string
	any  *anypb.Any
	hash uint64
	ver  string // hash, as the delta protocol's resource version
	// delta is the resource as a delta response carries it.
	delta *discovery.Resource
}

// resourceSet is one type's resources for a view: immutable once built,
// shared by the snapshots of every proxy of the view. Its token names it
// to the streams it was sent on (see xdsCache).
type resourceSet struct {
	token string
	items []*resource
	anys  []*anypb.Any
	hash  uint64
	bytes int64 // of the marshaled resources

	once   sync.Once
	byName map[string]*resource

	mu    sync.Mutex
	diffs map[*resourceSet]diff
}

type diff struct {
	anys  []*anypb.Any
	bytes int64
}

var setTokens atomic.Uint64

func newResourceSet(items []*resource) *resourceSet {
	s := &resourceSet{token: strconv.FormatUint(setTokens.Add(1), 36), items: items, anys: make([]*anypb.Any, len(items))}
	h := xxhash.New()
	var b [8]byte
	for i, r := range items {
		s.anys[i] = r.any
		s.bytes += int64(len(r.any.Value))
		binary.LittleEndian.PutUint64(b[:], r.hash)
		h.Write(b[:])
		h.WriteString(r.name)
	}
	s.hash = h.Sum64()
	shareWire(s, s.anys)
	return s
}

func (s *resourceSet) lookup(name string) *resource {
	s.once.Do(func() {
		s.byName = make(map[string]*resource, len(s.items))
		for _, r := range s.items {
			s.byName[r.name] = r
		}
	})
	return s.byName[name]
}

// diffFrom lists the resources of s that base does not hold with the same
// content: what a stream that was sent base needs of s (RDS and EDS only;
// LDS and CDS responses carry every resource). Computed once per pair, so
// once per view rather than once per proxy.
func (s *resourceSet) diffFrom(base *resourceSet) diff {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.diffs[base]; ok {
		return d
	}
	var d diff
	for _, r := range s.items {
		if old := base.lookup(r.name); old == nil || old.hash != r.hash {
			d.anys = append(d.anys, r.any)
			d.bytes += int64(len(r.any.Value))
		}
	}
	if s.diffs == nil {
		s.diffs = map[*resourceSet]diff{}
	}
	shareWire(s, d.anys)
	s.diffs[base] = d
	return d
}

var emptySet = newResourceSet(nil)

// nodeSnapshot is what one proxy is to be sent: per type a version and a
// resource set. Immutable; replaced as a whole.
type nodeSnapshot struct {
	versions [numTypes]string
	sets     [numTypes]*resourceSet
}

// tokenKey is the entry of a wildcard stream's returned-resources map that
// names the set last sent on it. It is not a valid resource name, and go-control-plane
// drops it (as it drops any name not subscribed) if the subscription turns explicit.
const tokenKey = "\x00set"

// historyLen is how many recent sets per type a node keeps to answer
// wildcard streams with only what changed.
const historyLen = 4

// xdsCache is go-control-plane's cache.Cache for Weft's server. Unlike
// the snapshot cache it shares the marshaled resources of a view between
// its proxies (no per-stream marshaling, no per-request maps for wildcard
// streams), answers RDS and EDS state-of-the-world requests with only the
// resources that changed (Envoy and weft-proxy keep the others), and
// orders a proxy's types: listeners and routes are only answered once the
// clusters and endpoints of the same snapshot have been queued on the
// stream (make-before-break). With the ordered ADS server, queued order is
// wire order.
type xdsCache struct {
	// budget bounds the bytes of responses sent and not yet answered (ACK
	// or NACK) across all streams, so that a push to many proxies does not
	// hold every proxy's response in memory at once; the rest wait their
	// turn, first come first served. One response is always let through.
	budget int64
	tmu    sync.Mutex
	// inflight is the bytes of responses not yet answered; waiters are
	// proxies with a response waiting for budget (guarded by tmu).
	inflight int64
	waiters  []*nodeEntry

	// parked reports, for a NACK, the version the proxy rejected if it is
	// still the latest: the watch then waits for the next version instead
	// of being answered with the rejected one again.
	parked func(node string, t typeIndex, nonce string) string

	mu    sync.RWMutex
	nodes map[string]*nodeEntry
}

type nodeEntry struct {
	c       *xdsCache
	waiting bool // in c.waiters (guarded by c.tmu)

	mu      sync.Mutex
	snap    *nodeSnapshot
	history [numTypes][]*resourceSet
	watches map[*cacheWatch]struct{}
	// queued is, per type, the version last handed to a stream of the
	// node (or that a request said the proxy has); subscribed, whether any
	// stream of the node has watched the type.
	queued     [numTypes]string
	subscribed [numTypes]bool
}

type cacheWatch struct {
	t   typeIndex
	req *discovery.DiscoveryRequest
	sub cachev3.Subscription
	ch  chan cachev3.Response
	// parkedAt is the version a NACK asked not to be sent again.
	parkedAt string

	dreq *discovery.DeltaDiscoveryRequest
	dch  chan cachev3.DeltaResponse

	// budget is what the watch's response took of the cache's budget,
	// given back when the stream moves on (its next request of the type
	// cancels the watch) or closes.
	budget int64
}

var _ cachev3.Cache = (*xdsCache)(nil)

func newXDSCache(budget int64, parked func(string, typeIndex, string) string) *xdsCache {
	return &xdsCache{budget: budget, parked: parked, nodes: map[string]*nodeEntry{}}
}

// responseOverhead is what a response counts against the budget besides
// its resources.
const responseOverhead = 512

// acquire takes n bytes of budget for e, or queues e to be flushed again
// when budget is given back. Called with e.mu held.
func (c *xdsCache) acquire(e *nodeEntry, n int64) bool {
	n += responseOverhead
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if c.inflight > 0 && c.inflight+n > c.budget {
		if !e.waiting {
			e.waiting = true
			c.waiters = append(c.waiters, e)
		}
		return false
	}
	c.inflight += n
	return true
}

// release gives back a response's budget and flushes waiting proxies
// while there is budget left.
func (c *xdsCache) release(n int64) {
	c.tmu.Lock()
	c.inflight -= n + responseOverhead
	c.tmu.Unlock()
	for {
		c.tmu.Lock()
		if len(c.waiters) == 0 || c.inflight >= c.budget {
			c.tmu.Unlock()
			return
		}
		e := c.waiters[0]
		c.waiters[0] = nil
		c.waiters = c.waiters[1:]
		e.waiting = false
		c.tmu.Unlock()
		e.mu.Lock()
		e.flush()
		e.mu.Unlock()
		c.tmu.Lock()
		full := e.waiting // it did not fit: wait for more budget
		c.tmu.Unlock()
		if full {
			return
		}
	}
}

func (c *xdsCache) entry(node string) *nodeEntry {
	c.mu.RLock()
	e := c.nodes[node]
	c.mu.RUnlock()
	if e != nil {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e = c.nodes[node]; e == nil {
		e = &nodeEntry{c: c, watches: map[*cacheWatch]struct{}{}}
		c.nodes[node] = e
	}
	return e
}

// setSnapshot installs a proxy's snapshot and answers its open watches.
func (c *xdsCache) setSnapshot(node string, snap *nodeSnapshot) {
	e := c.entry(node)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.snap = snap
	for t := range numTypes {
		h := e.history[t]
		if set := snap.sets[t]; len(h) == 0 || h[len(h)-1] != set {
			if len(h) == historyLen {
				h = append(h[:0:0], h[1:]...)
			}
			e.history[t] = append(h, set)
		}
	}
	e.flush()
}

// clear forgets a proxy (its last stream closed).
func (c *xdsCache) clear(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.nodes, node)
}

// CreateWatch implements cache.ConfigWatcher for state-of-the-world streams.
func (c *xdsCache) CreateWatch(req *cachev3.Request, sub cachev3.Subscription, ch chan cachev3.Response) (func(), error) {
	t, ok := typeOf(req.GetTypeUrl())
	if !ok {
		return func() {}, nil // never answered: Weft serves the four types
	}
	node := req.GetNode().GetId()
	w := &cacheWatch{t: t, req: req, sub: sub, ch: ch}
	if req.GetErrorDetail() != nil && c.parked != nil {
		w.parkedAt = c.parked(node, t, req.GetResponseNonce())
	}
	return c.watch(node, w), nil
}

// CreateDeltaWatch implements cache.ConfigWatcher for delta streams.
func (c *xdsCache) CreateDeltaWatch(req *cachev3.DeltaRequest, sub cachev3.Subscription, ch chan cachev3.DeltaResponse) (func(), error) {
	t, ok := typeOf(req.GetTypeUrl())
	if !ok {
		return func() {}, nil
	}
	return c.watch(req.GetNode().GetId(), &cacheWatch{t: t, sub: sub, dreq: req, dch: ch}), nil
}

func (c *xdsCache) watch(node string, w *cacheWatch) func() {
	e := c.entry(node)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subscribed[w.t] = true
	e.watches[w] = struct{}{}
	e.flush()
	return func() {
		e.mu.Lock()
		delete(e.watches, w)
		n := w.budget
		w.budget = 0
		e.mu.Unlock()
		if n > 0 {
			e.c.release(n)
		}
	}
}

// flush answers every watch that can be answered, clusters and endpoints
// before listeners and routes. Called with e.mu held.
func (e *nodeEntry) flush() {
	if e.snap == nil || len(e.watches) == 0 {
		return
	}
	for t := range numTypes {
		if (t == tLDS || t == tRDS) && !e.clustersQueued() {
			return
		}
		for w := range e.watches {
			if w.t == t && e.respond(w) {
				delete(e.watches, w)
			}
		}
	}
}

// clustersQueued reports whether the clusters and endpoints of the
// snapshot went out to the proxy (for the types it watches) — the
// condition for sending listeners and routes that may name them.
func (e *nodeEntry) clustersQueued() bool {
	for _, u := range []typeIndex{tCDS, tEDS} {
		if e.subscribed[u] && e.queued[u] != e.snap.versions[u] {
			return false
		}
	}
	return true
}

// respond answers w from the snapshot if the proxy lacks something; it
// reports whether it did.
func (e *nodeEntry) respond(w *cacheWatch) bool {
	v, set := e.snap.versions[w.t], e.snap.sets[w.t]
	if v == "" {
		return false // nothing for this type yet
	}
	if set == nil {
		set = emptySet
	}
	if w.dreq != nil {
		return e.respondDelta(w, v, set)
	}
	reqV := w.req.GetVersionInfo()
	if w.parkedAt != "" && w.parkedAt == v {
		reqV = v
	}
	returned := w.sub.ReturnedResources()
	full := w.t == tCDS || w.t == tLDS
	var anys []*anypb.Any
	var n int64
	var next map[string]string
	if w.sub.IsWildcard() {
		var base *resourceSet
		if tok := returned[tokenKey]; tok != "" {
			for _, s := range e.history[w.t] {
				if s.token == tok {
					base = s
				}
			}
		}
		if base != nil && base.hash == set.hash {
			base = set // the same resources
		}
		if reqV == v && (base == set || base == nil && len(set.items) == 0) {
			e.queued[w.t] = v
			return false // up to date
		}
		switch {
		case full || base == nil:
			anys, n = set.anys, set.bytes
		case base != set:
			d := set.diffFrom(base)
			anys, n = d.anys, d.bytes
		}
		next = map[string]string{tokenKey: set.token}
	} else {
		subscribed := w.sub.SubscribedResources()
		missing := false
		next = make(map[string]string, len(subscribed))
		for name := range subscribed {
			r := set.lookup(name)
			if r == nil {
				continue
			}
			next[name] = r.ver
			if returned[name] != r.ver {
				missing = true
				if !full {
					anys = append(anys, r.any)
					n += int64(len(r.any.Value))
				}
			}
		}
		if reqV == v && !missing {
			e.queued[w.t] = v
			return false
		}
		if full {
			for _, r := range set.items {
				if _, ok := subscribed[r.name]; ok {
					anys = append(anys, r.any)
					n += int64(len(r.any.Value))
				}
			}
		}
	}
	if !e.c.acquire(e, n) {
		return false
	}
	resp := &cachev3.PassthroughResponse{
		Request:           w.req,
		DiscoveryResponse: &discovery.DiscoveryResponse{VersionInfo: v, Resources: anys, TypeUrl: typeURLs[w.t]},
		ReturnedResources: next,
	}
	return e.deliver(w, v, n, func() bool {
		select {
		case w.ch <- resp:
			return true
		default:
			return false
		}
	})
}

// deliver hands a response to the stream's channel. The server drains a
// stream's channel before it asks again and a watch is answered once, so
// the channel has room; a full one means the stream is gone.
func (e *nodeEntry) deliver(w *cacheWatch, v string, n int64, send func() bool) bool {
	if !send() {
		e.c.tmu.Lock()
		e.c.inflight -= n + responseOverhead
		e.c.tmu.Unlock()
		return false
	}
	w.budget = n
	e.queued[w.t] = v
	return true
}

func (e *nodeEntry) respondDelta(w *cacheWatch, v string, set *resourceSet) bool {
	returned := w.sub.ReturnedResources()
	wild := w.sub.IsWildcard()
	subscribed := w.sub.SubscribedResources()
	var out []*discovery.Resource
	var removed []string
	next := make(map[string]string, len(set.items))
	consider := func(r *resource) {
		next[r.name] = r.ver
		if returned[r.name] != r.ver {
			out = append(out, r.delta)
		}
	}
	if wild {
		for _, r := range set.items {
			consider(r)
		}
	} else {
		for name := range subscribed {
			if r := set.lookup(name); r != nil {
				consider(r)
			}
		}
	}
	for name := range returned {
		if _, ok := next[name]; ok {
			continue
		}
		if _, sub := subscribed[name]; wild || sub {
			if set.lookup(name) == nil {
				removed = append(removed, name)
				continue
			}
		}
		next[name] = returned[name] // known to the proxy, not in scope: keep
	}
	if len(out) == 0 && len(removed) == 0 && !(wild && w.dreq.GetResponseNonce() == "") {
		e.queued[w.t] = v
		return false
	}
	var n int64
	for _, r := range out {
		n += int64(len(r.GetResource().GetValue()))
	}
	if !e.c.acquire(e, n) {
		return false
	}
	resp := &cachev3.DeltaPassthroughResponse{
		DeltaRequest:           w.dreq,
		NextVersionMap:         next,
		DeltaDiscoveryResponse: &discovery.DeltaDiscoveryResponse{SystemVersionInfo: v, Resources: out, RemovedResources: removed, TypeUrl: typeURLs[w.t]},
	}
	return e.deliver(w, v, n, func() bool {
		select {
		case w.dch <- resp:
			return true
		default:
			return false
		}
	})
}

// errNoSnapshot is returned by Fetch for a proxy the server has no
// configuration for.
var errNoSnapshot = errors.New("no xds snapshot for node")

// Fetch implements cache.ConfigFetcher (REST xDS): the full resources of
// the type, or SkipFetchError when the version is current.
func (c *xdsCache) Fetch(_ context.Context, req *cachev3.Request) (cachev3.Response, error) {
	t, ok := typeOf(req.GetTypeUrl())
	if !ok {
		return nil, &types.SkipFetchError{}
	}
	c.mu.RLock()
	e := c.nodes[req.GetNode().GetId()]
	c.mu.RUnlock()
	if e == nil {
		return nil, errNoSnapshot
	}
	e.mu.Lock()
	snap := e.snap
	e.mu.Unlock()
	if snap == nil {
		return nil, errNoSnapshot
	}
	v, set := snap.versions[t], snap.sets[t]
	if v == req.GetVersionInfo() || set == nil {
		return nil, &types.SkipFetchError{}
	}
	return &cachev3.PassthroughResponse{Request: req,
		DiscoveryResponse: &discovery.DiscoveryResponse{VersionInfo: v, Resources: set.anys, TypeUrl: typeURLs[t]}}, nil
}
