package xds

import (
	"runtime"
	"sync"
	"unsafe"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
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
// (resources) of a DiscoveryResponse, computed on first use.
type wireList struct {
	anys []*anypb.Any
	once sync.Once
	buf  []byte
	err  error
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

func (w *wireList) bytes() ([]byte, error) {
	w.once.Do(func() {
		w.buf, w.err = proto.Marshal(&discovery.DiscoveryResponse{Resources: w.anys})
	})
	return w.buf, w.err
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
	body, err := x.(*wireList).bytes()
	if err != nil {
		return c.CodecV2.Marshal(v)
	}
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
	return mem.BufferSlice{mem.SliceBuffer(head), mem.SliceBuffer(body), mem.SliceBuffer(tail)}, nil
}
