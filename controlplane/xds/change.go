package xds

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unsafe"

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
// endpoints and pods: services (but their endpoints), VirtualServices,
// DestinationRules, the domain and the mesh's warnings. Two indexes with
// the same structure translate alike but for endpoint assignments, given
// the same proxy view (viewKey covers what a proxy reads of its pod).
func (idx *index) structure() uint64 {
	idx.structureOnce.Do(func() {
		h := fnv.New64a()
		var b [8]byte
		str := func(s string) {
			binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
			h.Write(b[:])
			h.Write([]byte(s))
		}
		num := func(v uint64) {
			binary.LittleEndian.PutUint64(b[:], v)
			h.Write(b[:])
		}
		msg := func(m proto.Message) {
			buf, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
			if err != nil {
				buf = []byte(err.Error())
			}
			str(string(buf))
		}
		str(idx.domain)
		for _, s := range idx.services {
			str(s.fqdn)
			str(s.name)
			str(s.ns)
			str(s.clusterIP)
			str(strconv.FormatBool(s.nodePortType))
			str(labelsKey(s.selector))
			num(uint64(len(s.ports)))
			for _, p := range s.ports {
				num(uint64(p.port))
				str(p.name)
				num(uint64(p.proto))
				str(p.targetPort.String())
				num(uint64(p.nodePort))
			}
		}
		for _, v := range idx.allVS {
			str(v.ref)
			num(uint64(v.obj.CreationTimestamp.UnixNano()))
			msg(v.spec)
		}
		for _, d := range idx.allDR {
			str(d.ref)
			num(uint64(d.obj.CreationTimestamp.UnixNano()))
			msg(d.spec)
		}
		for _, w := range idx.warnings {
			str(w.String())
		}
		idx.structureHash = h.Sum64()
	})
	return idx.structureHash
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
