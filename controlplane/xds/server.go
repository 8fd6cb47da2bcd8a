package xds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	sotwv3 "github.com/envoyproxy/go-control-plane/pkg/server/sotw/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Options configures a Server.
type Options struct {
	// Debounce is how long the server waits after a Push for another one
	// before recomputing (default 100ms); MaxDebounce bounds the wait while
	// pushes keep coming (default 1s).
	Debounce    time.Duration
	MaxDebounce time.Duration
	// Logger defaults to a no-op logger.
	Logger *zap.Logger
	// GRPCOptions are added to the gRPC server's options.
	GRPCOptions []grpc.ServerOption
	// MaxInflightBytes bounds the resource bytes of responses sent to
	// proxies and not yet ACKed or NACKed (default 256 MiB): a push to many
	// proxies goes out in turns rather than all at once. Shared resource
	// lists cost no memory per stream (see responseCodec); responses built
	// per stream (explicit subscriptions, delta) are copied by gRPC, and
	// this bounds those copies.
	MaxInflightBytes int64
}

// typeIndex orders the four xDS types in SotW ADS push order.
type typeIndex int

const (
	tCDS typeIndex = iota
	tEDS
	tLDS
	tRDS
	numTypes
)

var typeURLs = [numTypes]string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

// TypeNames are the short names of the xDS types, in push order.
var TypeNames = [numTypes]string{"CDS", "EDS", "LDS", "RDS"}

func typeOf(url string) (typeIndex, bool) {
	for i, u := range typeURLs {
		if u == url {
			return typeIndex(i), true
		}
	}
	return 0, false
}

// Server is the ADS server: it keeps one snapshot per connected proxy,
// recomputed from the latest Mesh, and records what each proxy accepted.
type Server struct {
	opts  Options
	log   *zap.Logger
	cache *xdsCache

	// pushCh signals that pending holds a new mesh.
	pushCh chan struct{}
	// events carries proxy connections and ACKs to the loop.
	events chan event

	mu       sync.Mutex
	pending  *Mesh
	proxies  map[string]*proxyState // by node id
	streams  map[string]string      // stream key → node id
	warnings []Warning

	// Owned by the loop goroutine.
	mesh    *Mesh
	version uint64
	enc     encoder
}

type eventKind int

const (
	evConnect eventKind = iota
	evSynced
)

type event struct {
	kind eventKind
	node string
}

// proxyState is what the server knows of one proxy. Fields above the
// line are owned by the loop; status fields are guarded by Server.mu.
type proxyState struct {
	proxy Proxy

	viewKey  string
	view     *viewResult // last translation
	hashes   [numTypes]uint64
	versions [numTypes]string
	// held are clusters removed by the last push, still sent (with their
	// endpoints) so routes the proxy has not replaced yet keep working.
	held     map[string]bool
	snap     *nodeSnapshot // last installed
	computed bool

	// Guarded by Server.mu.
	streams int
	status  [numTypes]typeState
	latest  [numTypes]string // versions in the current snapshot
	hasHeld bool
}

type typeState struct {
	sentVersion, sentNonce string
	ackedVersion           string
	nackVersion, nackNonce string
	nackError              string
	nackAt                 time.Time
	subscribed             bool
}

// NewServer returns a server; Serve runs it.
func NewServer(opts Options) *Server {
	if opts.Debounce <= 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	if opts.MaxDebounce <= 0 {
		opts.MaxDebounce = time.Second
	}
	if opts.MaxDebounce < opts.Debounce {
		opts.MaxDebounce = opts.Debounce
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.MaxInflightBytes <= 0 {
		opts.MaxInflightBytes = 256 << 20
	}
	s := &Server{
		opts:    opts,
		log:     opts.Logger,
		pushCh:  make(chan struct{}, 1),
		events:  make(chan event, 1024),
		proxies: map[string]*proxyState{},
		streams: map[string]string{},
		// Versions keep going up across restarts: they start at the clock.
		version: uint64(time.Now().UnixMilli()),
	}
	s.cache = newXDSCache(opts.MaxInflightBytes, s.parked)
	s.enc = newEncoder()
	return s
}

// Push hands the server a new mesh. It returns at once; the server
// recomputes after the debounce and pushes to the proxies whose
// configuration changed. The mesh must not be modified afterwards.
func (s *Server) Push(m *Mesh) {
	if m == nil {
		return
	}
	s.mu.Lock()
	s.pending = m
	s.mu.Unlock()
	select {
	case s.pushCh <- struct{}{}:
	default:
	}
}

// Warnings returns the warnings of the last translated mesh.
func (s *Server) Warnings() []Warning {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.warnings)
}

// Serve runs the ADS server (state of the world and delta) on lis until
// ctx is done, then stops it. It returns nil after a clean stop.
func (s *Server) Serve(ctx context.Context, lis net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Ordered ADS: a stream's responses go out in the order the cache
	// queues them, which keeps clusters ahead of the routes naming them.
	xds := serverv3.NewServer(ctx, s.cache, s.callbacks(), sotwv3.WithOrderedADS())
	opts := append([]grpc.ServerOption{
		grpc.ForceServerCodecV2(newResponseCodec()),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}, s.opts.GRPCOptions...)
	g := grpc.NewServer(opts...)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(g, xds)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.loop(ctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- g.Serve(lis) }()
	var err error
	select {
	case <-ctx.Done():
		g.Stop()
		<-errc
	case err = <-errc:
		cancel()
		if err != nil {
			err = fmt.Errorf("serve xds on %s: %w", lis.Addr(), err)
		}
	}
	wg.Wait()
	return err
}

// loop owns recomputation: it debounces pushes and serves proxy events.
func (s *Server) loop(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first time.Time
	pending := false
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-s.pushCh:
			// Index the new mesh while the debounce runs: the recomputation
			// that follows starts from it (and a mesh superseded within the
			// debounce only costs the CPU).
			s.mu.Lock()
			if m := s.pending; m != nil {
				go m.index().structure()
			}
			s.mu.Unlock()
			now := time.Now()
			if !pending {
				pending, first = true, now
			}
			wait := min(s.opts.Debounce, s.opts.MaxDebounce-now.Sub(first))
			timer.Reset(max(wait, 0))
		case <-timer.C:
			pending = false
			prev := s.mesh
			s.mu.Lock()
			s.mesh = s.pending
			s.mu.Unlock()
			s.recomputeAll(prev)
		case ev := <-s.events:
			s.handle(ev)
		}
	}
}

func (s *Server) handle(ev event) {
	if s.mesh == nil {
		return // nothing to serve before the first Push; watches wait
	}
	s.mu.Lock()
	st := s.proxies[ev.node]
	s.mu.Unlock()
	if st == nil {
		return
	}
	switch ev.kind {
	case evConnect:
		if !st.computed {
			s.recompute(ev.node, st, s.mesh, map[string]*viewResult{}, nil)
		}
	case evSynced:
		s.trim(ev.node, st)
	}
}

// viewResult is one view's translation and its resources, encoded.
type viewResult struct {
	res      *Resources
	warnings []Warning
	sets     [numTypes]*resourceSet
}

// recomputeAll recomputes every connected proxy. Proxies with the same
// view (type, namespace, labels, ...) share one translation; when only
// endpoints changed since the last mesh, each view keeps its listeners,
// routes and clusters and only the changed endpoint assignments are
// rebuilt.
func (s *Server) recomputeAll(prev *Mesh) {
	m := s.mesh
	s.mu.Lock()
	ids := make([]string, 0, len(s.proxies))
	states := make([]*proxyState, 0, len(s.proxies))
	for id, st := range s.proxies {
		ids = append(ids, id)
		states = append(states, st)
	}
	s.mu.Unlock()
	var change *endpointChange
	if prev != nil {
		m.index().inherit(prev.index())
		change = endpointsOnly(prev.index(), m.index())
	}
	views := map[string]*viewResult{}
	for i, id := range ids {
		s.recompute(id, states[i], m, views, change)
	}
	warnings := m.Warnings()
	seen := map[Warning]bool{}
	for _, w := range warnings {
		seen[w] = true
	}
	add := func(r *viewResult) {
		for _, w := range r.warnings {
			if !seen[w] {
				seen[w] = true
				warnings = append(warnings, w)
			}
		}
	}
	for _, r := range views {
		add(r)
	}
	if change != nil {
		for _, r := range change.patched {
			add(r)
		}
	}
	s.enc.rotate()
	s.mu.Lock()
	s.warnings = warnings
	s.mu.Unlock()
}

// recompute translates one proxy's view and, if it changed, sets a new
// snapshot: new clusters added and removed ones held, with listeners and
// routes; the cache sends clusters and endpoints first, so that no route
// ever names a cluster the proxy has not been sent.
func (s *Server) recompute(id string, st *proxyState, m *Mesh, views map[string]*viewResult, change *endpointChange) {
	idx := m.index()
	vk := viewKey(idx, st.proxy)
	var r *viewResult
	if change != nil && st.view != nil && st.viewKey == vk {
		r = change.apply(st.view, st.proxy.Namespace)
	} else if r = views[vk]; r == nil {
		res, warnings := idx.translate(st.proxy)
		r = &viewResult{res: res, warnings: warnings}
		views[vk] = r
	}
	if r.sets[tCDS] == nil {
		r.sets = s.enc.sets(r.res)
	}
	var hashes [numTypes]uint64
	for i := range numTypes {
		hashes[i] = r.sets[i].hash
	}
	prev := st.view
	st.view, st.viewKey = r, vk
	if st.computed && hashes == st.hashes {
		return
	}
	st.computed = true
	s.version++
	v := strconv.FormatUint(s.version, 10)

	// Clusters the new view drops are held for this push, if the proxy
	// has listeners or routes that may still name them.
	s.mu.Lock()
	routed := st.status[tLDS].subscribed || st.status[tRDS].subscribed
	s.mu.Unlock()
	held := map[string]bool{}
	if prev != nil && routed {
		for _, c := range prev.sets[tCDS].items {
			if r.sets[tCDS].lookup(c.name) == nil {
				held[c.name] = true
			}
		}
	}
	changed := [numTypes]bool{}
	for i := range numTypes {
		changed[i] = hashes[i] != st.hashes[i] || st.versions[i] == ""
	}
	if len(held) > 0 || len(st.held) > 0 {
		changed[tCDS], changed[tEDS] = true, true
	}
	newVersions := st.versions
	for i := range numTypes {
		if changed[i] {
			newVersions[i] = v
		}
	}
	snap := &nodeSnapshot{versions: newVersions, sets: r.sets}
	if st.snap != nil {
		// A type that did not change keeps its set: streams that were
		// sent it are up to date.
		for i := range numTypes {
			if !changed[i] {
				snap.sets[i] = st.snap.sets[i]
			}
		}
	}
	if len(held) > 0 {
		snap.sets[tCDS] = withHeld(r.sets[tCDS], prev.sets[tCDS], held)
		snap.sets[tEDS] = withHeld(r.sets[tEDS], prev.sets[tEDS], held)
	}
	if !s.setSnapshot(id, st, snap, len(held) > 0) {
		return
	}
	st.hashes, st.versions, st.held = hashes, newVersions, held
}

// trim drops held clusters once the proxy has accepted the listeners and
// routes that no longer use them.
func (s *Server) trim(id string, st *proxyState) {
	if len(st.held) == 0 || st.view == nil {
		return
	}
	s.version++
	v := strconv.FormatUint(s.version, 10)
	versions := st.versions
	versions[tCDS], versions[tEDS] = v, v
	if !s.setSnapshot(id, st, &nodeSnapshot{versions: versions, sets: st.view.sets}, false) {
		return
	}
	st.versions, st.held = versions, nil
}

// setSnapshot installs a snapshot if the proxy is still connected. The
// status (latest versions, whether clusters are held) is updated first:
// the proxy may ACK before this returns.
func (s *Server) setSnapshot(id string, st *proxyState, snap *nodeSnapshot, hasHeld bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proxies[id] != st {
		return false
	}
	st.latest, st.snap, st.hasHeld = snap.versions, snap, hasHeld
	s.cache.setSnapshot(id, snap)
	return true
}

// withHeld adds to set the resources of prev named in held.
func withHeld(set, prev *resourceSet, held map[string]bool) *resourceSet {
	items := slices.Clone(set.items)
	for _, r := range prev.items {
		if held[r.name] {
			items = append(items, r)
		}
	}
	return newResourceSet(items)
}

// viewKey identifies everything of a proxy that translation depends on,
// so that proxies with the same key share one translation.
func viewKey(idx *index, p Proxy) string {
	p = withPodLabels(idx, p)
	k := fmt.Sprintf("%s|%s|%t|%d|%s", p.Type, p.Namespace, p.HostMode, p.HTTPProxyPort, labelsKey(p.Labels))
	if p.HostMode || p.Type == Gateway {
		k += "|" + p.IP
	}
	if p.Type == Sidecar {
		// Named target ports and host-mode port conflicts read the pod.
		pod := idx.pods[nsName{p.Namespace, p.Name}]
		if pod == nil && p.IP != "" {
			pod = idx.podsByIP[p.IP]
		}
		if pod != nil {
			for _, c := range pod.Spec.Containers {
				for _, cp := range c.Ports {
					k += fmt.Sprintf("|%s=%d", cp.Name, cp.ContainerPort)
				}
			}
		}
	}
	return k
}

// ErrNotConnected is returned by callbacks for a stream without a node.
var ErrNotConnected = errors.New("xds stream has no node")

// connect records a stream of a node; the first stream of a node makes
// the loop compute its snapshot.
func (s *Server) connect(streamKey string, node *corev3.Node) error {
	s.mu.Lock()
	if _, ok := s.streams[streamKey]; ok {
		s.mu.Unlock()
		return nil
	}
	if node.GetId() == "" {
		s.mu.Unlock()
		return ErrNotConnected
	}
	p, err := ParseNode(node)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.streams[streamKey] = p.ID
	st := s.proxies[p.ID]
	if st == nil {
		st = &proxyState{proxy: p}
		s.proxies[p.ID] = st
	}
	st.streams++
	s.mu.Unlock()
	s.events <- event{kind: evConnect, node: p.ID}
	return nil
}

func (s *Server) disconnect(streamKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.streams[streamKey]
	if !ok {
		return
	}
	delete(s.streams, streamKey)
	st := s.proxies[id]
	if st == nil {
		return
	}
	if st.streams--; st.streams <= 0 {
		delete(s.proxies, id)
		s.cache.clear(id)
	}
}

func (s *Server) nodeOf(streamKey string) (string, *proxyState) {
	id := s.streams[streamKey]
	return id, s.proxies[id]
}
