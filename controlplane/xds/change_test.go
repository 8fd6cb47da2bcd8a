package xds

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestInheritTranslatesAlike: an index that reuses the clusters and
// virtual hosts of the previous mesh translates exactly as a fresh one,
// through a series of VirtualService and DestinationRule changes.
func TestInheritTranslatesAlike(t *testing.T) {
	steps := [][]string{
		nil,
		{"virtual-service-all-v1.yaml"},
		{"virtual-service-reviews-50-v3.yaml"},
		{"virtual-service-reviews-50-v3.yaml", "virtual-service-ratings-test-delay.yaml"},
		{"virtual-service-reviews-jason-v2-v3.yaml", "fault-injection-details-v1.yaml"},
		{"virtual-service-reviews-v3.yaml", "destination-rule-reviews.yaml"},
		{"virtual-service-reviews-v3.yaml"},
		nil,
	}
	proxies := []Proxy{
		{ID: productpageID, Type: Sidecar, IP: "10.1.7.1", Name: "productpage-v1-0", Namespace: "default", Labels: map[string]string{"app": "productpage", "version": "v1"}},
		{ID: reviewsID, Type: Sidecar, IP: "10.1.4.1", Name: "reviews-v1-0", Namespace: "default", Labels: map[string]string{"app": "reviews", "version": "v1"}},
		{ID: "sidecar~10.1.9.1~client-0.other~other.svc.cluster.local", Type: GRPC, IP: "10.1.9.1", Name: "client-0", Namespace: "other"},
		{ID: "sidecar~10.1.9.2~client-1.other~other.svc.cluster.local", Type: Sidecar, HostMode: true, IP: "10.1.9.2", Name: "client-1", Namespace: "other"},
	}
	var prev *Mesh
	for i, rules := range steps {
		m, fresh := bookinfoMesh(t, rules...), bookinfoMesh(t, rules...)
		if prev != nil {
			m.index().inherit(prev.index())
			// Steps 4 and 5 add DestinationRules (details, reviews); 6 drops one.
			if inherited := m.index().prevVHosts != nil; inherited != (i < 4 || i == 7) {
				t.Fatalf("step %d: inherited %t", i, inherited)
			}
		}
		for _, p := range proxies {
			got, gw := Translate(m, p)
			want, ww := Translate(fresh, p)
			if !slices.Equal(gw, ww) {
				t.Errorf("step %d, %s: warnings %v, want %v", i, p.ID, gw, ww)
			}
			for _, pair := range []struct {
				what      string
				got, want []proto.Message
			}{
				{"listeners", msgs(got.Listeners), msgs(want.Listeners)},
				{"routes", msgs(got.Routes), msgs(want.Routes)},
				{"clusters", msgs(got.Clusters), msgs(want.Clusters)},
				{"endpoints", msgs(got.Endpoints), msgs(want.Endpoints)},
			} {
				if !slices.EqualFunc(pair.got, pair.want, proto.Equal) {
					t.Errorf("step %d, %s: %s differ from a fresh translation", i, p.ID, pair.what)
				}
			}
		}
		prev = m
	}
}

func msgs[T proto.Message](list []T) []proto.Message {
	out := make([]proto.Message, len(list))
	for i, m := range list {
		out[i] = m
	}
	return out
}
