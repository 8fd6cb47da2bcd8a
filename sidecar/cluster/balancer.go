package cluster

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Endpoint is a host as one snapshot sees it: weight and EDS health.
type Endpoint struct {
	Host      *Host
	Weight    uint32
	Healthy   bool
	Hostname  string
	Workload  string
	Namespace string
	// App and Version are the canonical service and revision from EDS
	// metadata, when the control plane sent them.
	App     string
	Version string
}

// Available reports whether the endpoint may take traffic outside panic mode.
func (e *Endpoint) Available() bool { return e.Healthy && !e.Host.Ejected() }

// Selector picks an endpoint. salt varies the pick between retries and
// host-selection attempts for deterministic policies (hashing).
type Selector interface {
	Pick(eps []*Endpoint, hash uint64, hasHash bool, salt uint64) int
}

var (
	_ Selector = (*roundRobin)(nil)
	_ Selector = (*leastRequest)(nil)
	_ Selector = (*random)(nil)
	_ Selector = (*ringHash)(nil)
	_ Selector = (*maglev)(nil)
)

// newSelector builds the selector for a cluster's policy over eps.
func newSelector(c *xdsresource.Cluster, eps []*Endpoint) Selector {
	switch c.LBPolicy {
	case xdsresource.LBLeastRequest:
		return &leastRequest{choices: int(c.ChoiceCount), w: newWeights(eps)}
	case xdsresource.LBRandom:
		return &random{w: newWeights(eps)}
	case xdsresource.LBRingHash:
		return newRingHash(eps, c.RingMinSize, c.RingMaxSize)
	case xdsresource.LBMaglev:
		return newMaglev(eps, c.MaglevTableSize)
	default:
		return newRoundRobin(eps)
	}
}

// weights supports weighted random choice; uniform when all weights match.
type weights struct {
	uniform bool
	cum     []uint64 // prefix sums
}

func newWeights(eps []*Endpoint) weights {
	w := weights{uniform: true}
	var sum uint64
	for i, e := range eps {
		if i > 0 && e.Weight != eps[0].Weight {
			w.uniform = false
		}
		sum += uint64(e.Weight)
		w.cum = append(w.cum, sum)
	}
	return w
}

func (w *weights) random(n int) int {
	if w.uniform || len(w.cum) == 0 {
		return rand.IntN(n)
	}
	r := rand.Uint64N(w.cum[len(w.cum)-1])
	return sort.Search(len(w.cum), func(i int) bool { return w.cum[i] > r })
}

// roundRobin is weighted round robin: a precomputed smooth schedule when
// weights differ (bounded in size), a counter otherwise.
type roundRobin struct {
	next     atomic.Uint64
	schedule []int32
}

func newRoundRobin(eps []*Endpoint) *roundRobin {
	rr := &roundRobin{}
	uniform := true
	var g uint32
	for _, e := range eps {
		if e.Weight != eps[0].Weight {
			uniform = false
		}
		g = gcd(g, e.Weight)
	}
	// Start at a random offset so proxies do not all hit host 0 first.
	rr.next.Store(rand.Uint64())
	if uniform || len(eps) == 0 {
		return rr
	}
	// Smooth weighted round robin (nginx) over the reduced weights.
	cur := make([]int64, len(eps))
	wt := make([]int64, len(eps))
	var sum int64
	for i, e := range eps {
		wt[i] = int64(e.Weight / g)
		sum += wt[i]
	}
	if sum > 4096 {
		for i := range wt {
			wt[i] = max(1, wt[i]*4096/sum)
		}
		sum = 0
		for _, v := range wt {
			sum += v
		}
	}
	rr.schedule = make([]int32, 0, sum)
	for k := int64(0); k < sum; k++ {
		best := 0
		for i := range cur {
			cur[i] += wt[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= sum
		rr.schedule = append(rr.schedule, int32(best))
	}
	return rr
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (rr *roundRobin) Pick(eps []*Endpoint, _ uint64, _ bool, _ uint64) int {
	n := rr.next.Add(1)
	if rr.schedule != nil {
		return int(rr.schedule[n%uint64(len(rr.schedule))])
	}
	return int(n % uint64(len(eps)))
}

// leastRequest is power-of-N-choices on active requests.
type leastRequest struct {
	choices int
	w       weights
}

func (lr *leastRequest) Pick(eps []*Endpoint, _ uint64, _ bool, _ uint64) int {
	best := lr.w.random(len(eps))
	for i := 1; i < lr.choices; i++ {
		c := lr.w.random(len(eps))
		if eps[c].Host.RqActive.Load() < eps[best].Host.RqActive.Load() {
			best = c
		}
	}
	return best
}

type random struct{ w weights }

func (r *random) Pick(eps []*Endpoint, _ uint64, _ bool, _ uint64) int { return r.w.random(len(eps)) }

// ringHash is Envoy's ketama-style ring with xxHash.
type ringHash struct {
	hashes []uint64
	idx    []int32
}

func newRingHash(eps []*Endpoint, minSize, maxSize uint64) *ringHash {
	r := &ringHash{}
	if len(eps) == 0 {
		return r
	}
	var total uint64
	for _, e := range eps {
		total += uint64(e.Weight)
	}
	minNorm := 1.0
	for _, e := range eps {
		minNorm = min(minNorm, float64(e.Weight)/float64(total))
	}
	// Envoy's sizing: the lightest host gets ceil(minNorm*minSize) entries,
	// the ring is capped at maxSize.
	scale := min(math.Ceil(minNorm*float64(minSize))/minNorm, float64(maxSize))
	type entry struct {
		h uint64
		i int32
	}
	var entries []entry
	buf := make([]byte, 0, 64)
	var target float64
	var current int
	for i, e := range eps {
		target += scale * float64(e.Weight) / float64(total)
		for j := 0; float64(current) < target; j++ {
			current++
			buf = append(buf[:0], e.Host.Addr...)
			buf = append(buf, '_')
			buf = strconv.AppendInt(buf, int64(j), 10)
			entries = append(entries, entry{xxhash.Sum64(buf), int32(i)})
		}
	}
	sort.Slice(entries, func(a, b int) bool { return entries[a].h < entries[b].h })
	r.hashes = make([]uint64, len(entries))
	r.idx = make([]int32, len(entries))
	for i, e := range entries {
		r.hashes[i], r.idx[i] = e.h, e.i
	}
	return r
}

func (r *ringHash) Pick(eps []*Endpoint, hash uint64, hasHash bool, salt uint64) int {
	if !hasHash || len(r.hashes) == 0 {
		return rand.IntN(len(eps))
	}
	i := sort.Search(len(r.hashes), func(i int) bool { return r.hashes[i] >= hash })
	return int(r.idx[(uint64(i)+salt)%uint64(len(r.hashes))])
}

// maglev is Google's Maglev consistent hashing, weighted as Envoy does.
type maglev struct {
	table []int32
}

func newMaglev(eps []*Endpoint, size uint64) *maglev {
	m := &maglev{}
	if len(eps) == 0 {
		return m
	}
	M := size
	offset := make([]uint64, len(eps))
	skip := make([]uint64, len(eps))
	next := make([]uint64, len(eps))
	acc := make([]uint64, len(eps))
	var maxW uint64
	for i, e := range eps {
		offset[i] = xxhash.Sum64String(e.Host.Addr) % M
		skip[i] = xxhash.Sum64String(e.Host.Addr+"#")%(M-1) + 1
		maxW = max(maxW, uint64(e.Weight))
	}
	m.table = make([]int32, M)
	for i := range m.table {
		m.table[i] = -1
	}
	filled := uint64(0)
	for filled < M {
		for i, e := range eps {
			acc[i] += uint64(e.Weight)
			if acc[i] < maxW {
				continue
			}
			acc[i] -= maxW
			for {
				c := (offset[i] + next[i]*skip[i]) % M
				next[i]++
				if m.table[c] < 0 {
					m.table[c] = int32(i)
					filled++
					break
				}
			}
			if filled == M {
				break
			}
		}
	}
	return m
}

func (m *maglev) Pick(eps []*Endpoint, hash uint64, hasHash bool, salt uint64) int {
	if !hasHash || len(m.table) == 0 {
		return rand.IntN(len(eps))
	}
	return int(m.table[(hash+salt)%uint64(len(m.table))])
}
