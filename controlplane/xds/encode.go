package xds

import (
	"strconv"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
)

// encoder marshals translated resources once and builds the resource sets
// of views, memoized by identity: translated resources are immutable and
// shared (between views, and between meshes when only endpoints change),
// so a resource is marshaled once however many proxies are sent it. The
// memo keeps what the last recomputation used (two generations).
type encoder struct {
	cur, next         map[proto.Message]*resource
	curSets, nextSets map[sliceKey]*resourceSet
	// Virtual hosts, encoded: route configurations are assembled from
	// them, so a route change re-encodes only the virtual hosts it made.
	curVH, nextVH map[*routev3.VirtualHost][]byte
}

// sliceKey identifies an immutable slice of resources.
type sliceKey struct {
	t    typeIndex
	data unsafe.Pointer
	n    int
}

func newEncoder() encoder {
	return encoder{
		cur: map[proto.Message]*resource{}, next: map[proto.Message]*resource{},
		curSets: map[sliceKey]*resourceSet{}, nextSets: map[sliceKey]*resourceSet{},
		curVH: map[*routev3.VirtualHost][]byte{}, nextVH: map[*routev3.VirtualHost][]byte{},
	}
}

// rotate ends a recomputation: what it did not use is forgotten.
func (e *encoder) rotate() {
	e.cur, e.next = e.next, map[proto.Message]*resource{}
	e.curSets, e.nextSets = e.nextSets, map[sliceKey]*resourceSet{}
	e.curVH, e.nextVH = e.nextVH, map[*routev3.VirtualHost][]byte{}
}

// sets returns the resource sets of a translation.
func (e *encoder) sets(res *Resources) [numTypes]*resourceSet {
	return [numTypes]*resourceSet{
		setOf(e, tCDS, res.Clusters),
		setOf(e, tEDS, res.Endpoints),
		setOf(e, tLDS, res.Listeners),
		setOf(e, tRDS, res.Routes),
	}
}

func setOf[T proto.Message](e *encoder, t typeIndex, list []T) *resourceSet {
	if len(list) == 0 {
		return emptySet
	}
	k := sliceKey{t, unsafe.Pointer(unsafe.SliceData(list)), len(list)}
	if s := e.nextSets[k]; s != nil {
		return s
	}
	s := e.curSets[k]
	if s == nil {
		items := make([]*resource, len(list))
		for i, m := range list {
			items[i] = e.resource(t, m)
		}
		s = newResourceSet(items)
	}
	e.nextSets[k] = s
	return s
}

// resource returns m marshaled (deterministically, so that equal
// resources hash alike).
func (e *encoder) resource(t typeIndex, m proto.Message) *resource {
	if r := e.next[m]; r != nil {
		return r
	}
	r := e.cur[m]
	if r == nil {
		var buf []byte
		var err error
		if rc, ok := m.(*routev3.RouteConfiguration); ok {
			buf, err = e.routeConfig(rc)
		} else {
			buf, err = deterministic.Marshal(m)
		}
		if err != nil {
			// Unreachable for translated resources; make the hash differ.
			buf = []byte(err.Error())
		}
		r = &resource{name: resourceName(m), any: &anypb.Any{TypeUrl: typeURLs[t], Value: buf}, hash: xxhash.Sum64(buf)}
		r.ver = strconv.FormatUint(r.hash, 36)
		r.delta = &discovery.Resource{Name: r.name, Version: r.ver, Resource: r.any}
	}
	e.next[m] = r
	return r
}

func resourceName(m proto.Message) string {
	switch x := m.(type) {
	case interface{ GetClusterName() string }:
		return x.GetClusterName()
	case interface{ GetName() string }:
		return x.GetName()
	}
	return ""
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// Field numbers of RouteConfiguration that routeConfig assembles.
const (
	rcName             = 1
	rcVirtualHosts     = 2
	rcValidateClusters = 7
)

// routeConfig encodes a route configuration as deterministic marshaling
// does — field by field in number order — from its virtual hosts' own
// encodings, memoized: virtual hosts are shared between namespaces' route
// configurations and between meshes. A configuration with other fields
// set is marshaled as a whole.
func (e *encoder) routeConfig(rc *routev3.RouteConfiguration) ([]byte, error) {
	simple := true
	rc.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		switch fd.Number() {
		case rcName, rcVirtualHosts, rcValidateClusters:
			return true
		}
		simple = false
		return false
	})
	if !simple {
		return deterministic.Marshal(rc)
	}
	head, err := deterministic.Marshal(&routev3.RouteConfiguration{Name: rc.GetName()})
	if err != nil {
		return nil, err
	}
	var tail []byte
	if rc.GetValidateClusters() != nil {
		if tail, err = deterministic.Marshal(&routev3.RouteConfiguration{ValidateClusters: rc.GetValidateClusters()}); err != nil {
			return nil, err
		}
	}
	vhs := make([][]byte, len(rc.GetVirtualHosts()))
	size := len(head) + len(tail)
	for i, vh := range rc.GetVirtualHosts() {
		b, ok := e.nextVH[vh]
		if !ok {
			if b, ok = e.curVH[vh]; !ok {
				if b, err = deterministic.Marshal(vh); err != nil {
					return nil, err
				}
			}
			e.nextVH[vh] = b
		}
		vhs[i] = b
		size += protowire.SizeTag(rcVirtualHosts) + protowire.SizeBytes(len(b))
	}
	buf := make([]byte, 0, size)
	buf = append(buf, head...)
	for _, b := range vhs {
		buf = protowire.AppendTag(buf, rcVirtualHosts, protowire.BytesType)
		buf = protowire.AppendBytes(buf, b)
	}
	return append(buf, tail...), nil
}
