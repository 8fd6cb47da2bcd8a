package xds

import (
	"runtime"
	"sync"
	"unsafe"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// responseCodec is gRPC's proto codec, except for state-of-the-world
// responses whose resources are a shared list of the cache (a view's set,
// or what changed between two sets): their encoding is computed once and
// the same bytes go to every stream, around the response's own version,
// type and nonce. Without it gRPC marshals (copies) every resource into a
// fresh buffer per stream.
type responseCodec struct {
	encoding.CodecV2
}

func newResponseCodec() responseCodec {
	return responseCodec{encoding.GetCodecV2(grpcproto.Name)}
}

// wireList is the encoding of a shared resource list as field 2
// (resources) of a DiscoveryResponse, computed on first use: for each
// resource a small head (the field's tag and length, the Any's type_url,
// its value's tag and length) followed by the Any's value itself, not
// copied. Lists of many views share their resources' bytes this way
// (a 1,000-service route configuration is half a megabyte, and a hundred
// views hold the same one).
type wireList struct {
	anys  []*anypb.Any
	once  sync.Once
	parts [][]byte
}

// wires maps a shared list (its first element's address) to its wireList;
// an entry goes when the set owning the list is collected.
var wires sync.Map // unsafe.Pointer → *wireList

// shareWire registers list, owned by owner, for responseCodec.
func shareWire(owner *resourceSet, list []*anypb.Any) {
	if len(list) == 0 {
		return
	}
	k := unsafe.Pointer(unsafe.SliceData(list))
	wires.Store(k, &wireList{anys: list})
	runtime.AddCleanup(owner, func(k unsafe.Pointer) { wires.Delete(k) }, k)
}

// resourcesField is DiscoveryResponse.resources' field number.
const resourcesField = 2

func (w *wireList) encoded() [][]byte {
	w.once.Do(func() {
		parts := make([][]byte, 0, 2*len(w.anys))
		for _, a := range w.anys {
			var head []byte
			inner := 0
			if a.TypeUrl != "" {
				inner += protowire.SizeTag(1) + protowire.SizeBytes(len(a.TypeUrl))
			}
			if len(a.Value) > 0 {
				inner += protowire.SizeTag(2) + protowire.SizeBytes(len(a.Value))
			}
			head = protowire.AppendTag(head, resourcesField, protowire.BytesType)
			head = protowire.AppendVarint(head, uint64(inner))
			if a.TypeUrl != "" {
				head = protowire.AppendTag(head, 1, protowire.BytesType)
				head = protowire.AppendString(head, a.TypeUrl)
			}
			if len(a.Value) > 0 {
				head = protowire.AppendTag(head, 2, protowire.BytesType)
				head = protowire.AppendVarint(head, uint64(len(a.Value)))
			}
			parts = append(parts, head)
			if len(a.Value) > 0 {
				parts = append(parts, a.Value)
			}
		}
		w.parts = parts
	})
	return w.parts
}

func (c responseCodec) Marshal(v any) (mem.BufferSlice, error) {
	r, ok := v.(*discovery.DiscoveryResponse)
	if !ok || len(r.Resources) == 0 || r.Canary || r.ControlPlane != nil || len(r.ResourceErrors) > 0 {
		return c.CodecV2.Marshal(v)
	}
	x, ok := wires.Load(unsafe.Pointer(unsafe.SliceData(r.Resources)))
	if !ok || len(x.(*wireList).anys) != len(r.Resources) {
		return c.CodecV2.Marshal(v)
	}
	body := x.(*wireList).encoded()
	// Fields in number order: version_info (1), resources (2), type_url
	// (4), nonce (5).
	head, err := proto.Marshal(&discovery.DiscoveryResponse{VersionInfo: r.VersionInfo})
	if err != nil {
		return nil, err
	}
	tail, err := proto.Marshal(&discovery.DiscoveryResponse{TypeUrl: r.TypeUrl, Nonce: r.Nonce})
	if err != nil {
		return nil, err
	}
	out := make(mem.BufferSlice, 0, len(body)+2)
	out = append(out, mem.SliceBuffer(head))
	for _, b := range body {
		out = append(out, mem.SliceBuffer(b))
	}
	return append(out, mem.SliceBuffer(tail)), nil
}
