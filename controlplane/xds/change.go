package xds

import (
	"encoding/binary"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/proto"
)

// usesSourceLabels reports whether some VirtualService that applies to
// sidecars matches on sourceLabels (HTTP or TCP): only then does a
// sidecar's outbound side depend on its labels.
func (idx *index) usesSourceLabels() bool {
	idx.sourceLabelsOnce.Do(func() {
		for _, v := range idx.allVS {
			if usesSourceLabels(v) {
				idx.sourceLabels = true
			}
			for _, r := range v.spec.GetTcp() {
				for _, m := range r.GetMatch() {
					if len(m.GetSourceLabels()) > 0 {
						idx.sourceLabels = true
					}
				}
			}
		}
	})
	return idx.sourceLabels
}

// structure hashes everything translation reads from the index except
// endpoints and pods: base, VirtualServices, the mesh's warnings, and the
// pods' hostPorts (the node gateways serve them). Two
// indexes with the same structure translate alike but for endpoint
// assignments, given the same proxy view (viewKey covers what a proxy
// reads of its pod).
func (idx *index) structure() uint64 {
	idx.structureOnce.Do(func() {
		h := newHasher()
		h.num(idx.base())
		for _, v := range idx.allVS {
			h.str(v.fp)
		}
		for _, w := range idx.warnings {
			h.str(w.String())
		}
		for _, p := range idx.hostPorts {
			h.str(p.Namespace)
			h.str(p.Name)
			h.str(p.Status.HostIP)
			h.str(p.Status.PodIP)
			for _, hp := range hostPortsOf(p) {
				h.str(hp.HostIP)
				h.num(uint64(hp.HostPort)<<32 | uint64(hp.ContainerPort))
				h.str(string(hp.Protocol))
			}
		}
		idx.structureHash = h.Sum64()
	})
	return idx.structureHash
}

// base hashes what clusters and virtual hosts are built from besides a
// host's VirtualService: the domain, services (but their endpoints) and
// DestinationRules.
func (idx *index) base() uint64 {
	idx.baseOnce.Do(func() {
		h := newHasher()
		h.str(idx.domain)
		for _, s := range idx.services {
			h.str(s.fqdn)
			h.str(s.name)
			h.str(s.ns)
			h.str(s.clusterIP)
			h.str(strconv.FormatBool(s.nodePortType))
			h.str(strconv.FormatBool(s.loadBalancer))
			h.str(labelsKey(s.selector))
			h.num(uint64(len(s.ports)))
			for _, p := range s.ports {
				h.num(uint64(p.port))
				h.str(p.name)
				h.num(uint64(p.proto))
				h.str(p.targetPort.String())
				h.num(uint64(p.nodePort))
			}
		}
		for _, d := range idx.allDR {
			h.str(d.ref)
			h.num(uint64(d.obj.CreationTimestamp.UnixNano()))
			h.num(messageHash(d.spec))
		}
		idx.baseHash = h.Sum64()
	})
	return idx.baseHash
}

// inherit lets idx reuse the clusters and virtual hosts old built, when
// both have the same base: they are immutable, and their cache keys name
// everything else they depend on (a virtual host's key includes its
// VirtualService's fingerprint). Resources reused keep their identity, so
// the encoder does not marshal them again. Call before translating with
// idx.
func (idx *index) inherit(old *index) {
	if old == nil || old == idx || old.base() != idx.base() {
		return
	}
	old.mu.Lock()
	clusters, vhosts := maps.Clone(old.clusters), maps.Clone(old.vhosts)
	old.mu.Unlock()
	idx.mu.Lock()
	idx.prevClusters, idx.prevVHosts = clusters, vhosts
	idx.mu.Unlock()
}

type hasher struct {
	*xxhash.Digest
	b [8]byte
}

func newHasher() *hasher { return &hasher{Digest: xxhash.New()} }

func (h *hasher) num(v uint64) {
	binary.LittleEndian.PutUint64(h.b[:], v)
	h.Write(h.b[:])
}

func (h *hasher) str(s string) {
	h.num(uint64(len(s)))
	h.WriteString(s)
}

// messageHash hashes a message's deterministic encoding.
func messageHash(m proto.Message) uint64 {
	buf, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		buf = []byte(err.Error())
	}
	return xxhash.Sum64(buf)
}

// endpointChange is what changed between two indexes when only endpoints
// did: the service ports (fqdn|port) whose ready endpoints differ.
type endpointChange struct {
	idx     *index
	changed map[portKey]bool
	// patched memoizes apply by the view it patched; lists, the patched
	// endpoint lists by the list they patch (views of a namespace share
	// one), so that patched views share theirs too.
	patched map[*viewResult]*viewResult
	lists   map[listKey][]*endpointv3.ClusterLoadAssignment
}

type portKey struct {
	fqdn string
	port uint32
}

type listKey struct {
	data *(*endpointv3.ClusterLoadAssignment)
	n    int
	ns   string
}

// endpointsOnly returns the endpoint change from old to idx, or nil when
// anything but endpoints differs (or nothing does).
func endpointsOnly(old, idx *index) *endpointChange {
	if old == nil || old.structure() != idx.structure() {
		return nil
	}
	changed := map[portKey]bool{}
	for _, s := range idx.services {
		o := old.byHost[s.fqdn]
		if o == nil || len(o.ports) != len(s.ports) {
			return nil // unreachable with equal structures
		}
		for i := range s.ports {
			if !sameEndpoints(o.ports[i].endpoints, s.ports[i].endpoints) {
				changed[portKey{s.fqdn, s.ports[i].port}] = true
			}
		}
	}
	return &endpointChange{idx: idx, changed: changed, patched: map[*viewResult]*viewResult{},
		lists: map[listKey][]*endpointv3.ClusterLoadAssignment{}}
}

func sameEndpoints(a, b []endpointAddr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ip != b[i].ip || a[i].port != b[i].port || !maps.Equal(a[i].labels, b[i].labels) {
			return false
		}
	}
	return true
}

// apply returns the view's translation under the new index: the same
// listeners, routes and clusters, with the endpoint assignments of the
// changed service ports rebuilt (ns is the view's namespace, which picks
// the DestinationRule whose subsets filter the endpoints).
func (c *endpointChange) apply(prev *viewResult, ns string) *viewResult {
	if r, ok := c.patched[prev]; ok {
		return r
	}
	r := prev
	if eps := c.patch(prev.res.Endpoints, ns); eps != nil {
		res := *prev.res
		res.Endpoints = eps
		r = &viewResult{res: &res, warnings: prev.warnings}
	}
	c.patched[prev] = r
	return r
}

// patch returns list with the assignments of changed service ports
// rebuilt, or nil if none is in it.
func (c *endpointChange) patch(list []*endpointv3.ClusterLoadAssignment, ns string) []*endpointv3.ClusterLoadAssignment {
	if len(c.changed) == 0 || len(list) == 0 {
		return nil
	}
	k := listKey{unsafe.SliceData(list), len(list), ns}
	if eps, ok := c.lists[k]; ok {
		return eps
	}
	var eps []*endpointv3.ClusterLoadAssignment
	for i, cla := range list {
		port, subset, fqdn, ok := parseOutboundCluster(cla.GetClusterName())
		if !ok || !c.changed[portKey{fqdn, port}] {
			continue
		}
		s := c.idx.byHost[fqdn]
		sp := s.portByNumber(port)
		if sp == nil {
			continue
		}
		var labels map[string]string
		if subset != "" {
			ss := c.idx.destinationRule(s, ns).subset(subset)
			if ss == nil {
				continue
			}
			labels = ss.GetLabels()
		}
		if eps == nil {
			eps = slices.Clone(list)
		}
		eps[i] = c.idx.loadAssignment(cla.GetClusterName(), sp.endpoints, labels)
	}
	c.lists[k] = eps
	return eps
}

// parseOutboundCluster splits "outbound|<port>|<subset>|<fqdn>".
func parseOutboundCluster(name string) (port uint32, subset, fqdn string, ok bool) {
	rest, ok := strings.CutPrefix(name, "outbound|")
	if !ok {
		return 0, "", "", false
	}
	parts := strings.SplitN(rest, "|", 3)
	if len(parts) != 3 {
		return 0, "", "", false
	}
	p, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil {
		return 0, "", "", false
	}
	return uint32(p), parts[1], parts[2], true
}
