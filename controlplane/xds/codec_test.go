package xds

import (
	"bytes"
	"testing"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
)

// TestResponseCodec: a response over a shared list encodes to the same
// bytes as gRPC's proto codec would send, with the resources' values
// shared rather than copied; other messages go through it.
func TestResponseCodec(t *testing.T) {
	p := Proxy{ID: productpageID, Type: Sidecar, IP: "10.1.7.1", Name: "productpage-v1-0", Namespace: "default", Labels: map[string]string{"app": "productpage", "version": "v1"}}
	res, _ := Translate(bookinfoMesh(t), p)
	enc := newEncoder()
	sets := enc.sets(res)
	c := newResponseCodec()
	for i, set := range sets {
		resp := &discovery.DiscoveryResponse{VersionInfo: "17", Resources: set.anys, TypeUrl: typeURLs[i], Nonce: "3"}
		got, err := c.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		want, err := proto.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Materialize(), want) {
			t.Errorf("%s: shared encoding differs from proto.Marshal", TypeNames[i])
		}
		// The resources' values are sent from the Anys themselves, not copied.
		shared := map[*byte]bool{}
		for _, b := range got {
			if r := b.ReadOnlyData(); len(r) > 0 {
				shared[&r[0]] = true
			}
		}
		for _, a := range set.anys {
			if len(a.Value) > 0 && !shared[&a.Value[0]] {
				t.Errorf("%s: %s's value was copied", TypeNames[i], a.TypeUrl)
				break
			}
		}
	}
	// A list the cache does not own is marshaled as usual.
	own := &discovery.DiscoveryResponse{VersionInfo: "1", Resources: append(sets[tCDS].anys[:0:0], sets[tCDS].anys...), TypeUrl: typeURLs[tCDS]}
	got, err := c.Marshal(own)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(own)
	if !bytes.Equal(got.Materialize(), want) {
		t.Error("fallback encoding differs")
	}
}

// TestRouteConfigEncoding: route configurations assembled from their
// virtual hosts' encodings are byte for byte their deterministic marshaling.
func TestRouteConfigEncoding(t *testing.T) {
	m := bigMesh(50, 2, 90)
	enc := newEncoder()
	for _, p := range []Proxy{
		benchProxy,
		{ID: "sidecar~10.1.9.1~c-0.ns-1~ns-1.svc.cluster.local", Type: GRPC, IP: "10.1.9.1", Name: "c-0", Namespace: "ns-1"},
		{ID: "sidecar~10.1.9.2~c-1.ns-2~ns-2.svc.cluster.local", Type: Sidecar, HostMode: true, IP: "10.1.9.2", Name: "c-1", Namespace: "ns-2"},
	} {
		res, _ := Translate(m, p)
		if len(res.Routes) == 0 {
			t.Fatalf("%s: no routes", p.ID)
		}
		for _, rc := range res.Routes {
			got := enc.resource(tRDS, rc).any.GetValue()
			want, err := proto.MarshalOptions{Deterministic: true}.Marshal(rc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: route %s: assembled encoding differs from deterministic marshaling", p.ID, rc.GetName())
			}
		}
	}
}
