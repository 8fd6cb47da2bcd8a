package ipam

import (
	"math/rand/v2"
	"sync"
)

// bitmap tracks which offsets of a range are taken. Offsets below
// staticBand are handed out last, so explicitly requested values (which
// users pick low) rarely collide with dynamic ones — kube's
// ServiceIPStaticSubrange.
type bitmap struct {
	mu         sync.Mutex
	size       int
	staticBand int
	used       []uint64
	reserved   func(off int) bool
}

func newBitmap(size int, reserved func(int) bool) *bitmap {
	band := min(max(size/16, 16), 256)
	if band >= size {
		band = 0
	}
	return &bitmap{size: size, staticBand: band, used: make([]uint64, (size+63)/64), reserved: reserved}
}

func (b *bitmap) isSet(off int) bool { return b.used[off/64]&(1<<(off%64)) != 0 }

// set marks an offset taken (true) or free.
func (b *bitmap) set(off int, taken bool) {
	if off < 0 || off >= b.size {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if taken {
		b.used[off/64] |= 1 << (off % 64)
	} else {
		b.used[off/64] &^= 1 << (off % 64)
	}
}

// reset replaces the whole map with the taken offsets.
func (b *bitmap) reset(taken []int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.used)
	for _, off := range taken {
		if off >= 0 && off < b.size {
			b.used[off/64] |= 1 << (off % 64)
		}
	}
}

// free calls try with free offsets — the dynamic band from a random
// start, then the static band — marking each taken first, until try
// returns true. It reports whether try succeeded.
func (b *bitmap) free(try func(off int) (bool, error)) (bool, error) {
	scan := func(lo, hi int) (bool, error) {
		n := hi - lo
		if n <= 0 {
			return false, nil
		}
		start := rand.IntN(n)
		for i := 0; i < n; i++ {
			off := lo + (start+i)%n
			if b.reserved != nil && b.reserved(off) {
				continue
			}
			b.mu.Lock()
			if b.isSet(off) {
				b.mu.Unlock()
				continue
			}
			b.used[off/64] |= 1 << (off % 64)
			b.mu.Unlock()
			ok, err := try(off)
			if ok || err != nil {
				return ok, err
			}
		}
		return false, nil
	}
	if ok, err := scan(b.staticBand, b.size); ok || err != nil {
		return ok, err
	}
	return scan(0, b.staticBand)
}
