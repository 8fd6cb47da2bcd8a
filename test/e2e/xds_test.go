package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

// adsProxy is a minimal xDS client: it subscribes to clusters over ADS and
// ACKs or NACKs what it gets.
type adsProxy struct {
	t      *testing.T
	stream discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	node   *corev3.Node
}

func dialADS(t *testing.T, addr, id string) *adsProxy {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := structpb.NewStruct(map[string]any{"NAMESPACE": "default"})
	return &adsProxy{t: t, stream: stream, node: &corev3.Node{Id: id, Metadata: meta}}
}

func (p *adsProxy) request(version, nonce string, nack string) {
	p.t.Helper()
	req := &discoveryv3.DiscoveryRequest{Node: p.node, TypeUrl: resourcev3.ClusterType, VersionInfo: version, ResponseNonce: nonce}
	if nack != "" {
		req.ErrorDetail = &status.Status{Code: 3, Message: nack}
	}
	if err := p.stream.Send(req); err != nil {
		p.t.Fatal(err)
	}
}

func (p *adsProxy) recv() *discoveryv3.DiscoveryResponse {
	p.t.Helper()
	type result struct {
		r   *discoveryv3.DiscoveryResponse
		err error
	}
	ch := make(chan result, 1)
	go func() { r, err := p.stream.Recv(); ch <- result{r, err} }()
	select {
	case res := <-ch:
		if res.err != nil {
			p.t.Fatal(res.err)
		}
		return res.r
	case <-time.After(30 * time.Second):
		p.t.Fatal("no xDS response within 30s")
		return nil
	}
}

// TestProxyStatusShowsNACK connects two proxies to weftd's xDS; one
// rejects its clusters. proxy-status names the NACK and its reason, and a
// change still reaches the other proxy.
func TestProxyStatusShowsNACK(t *testing.T) {
	t.Parallel()
	w := startWeftd(t, t.TempDir(), "--agent=false")
	good := dialADS(t, w.addrs["xds"], "sidecar~127.0.0.8~good.default~default.svc.cluster.local")
	bad := dialADS(t, w.addrs["xds"], "sidecar~127.0.0.9~bad.default~default.svc.cluster.local")
	good.request("", "", "")
	bad.request("", "", "")
	g1, b1 := good.recv(), bad.recv()
	good.request(g1.VersionInfo, g1.Nonce, "")
	bad.request("", b1.Nonce, "cluster outbound|80||x: unsupported field lb_subset_config")

	waitFor(t, 30*time.Second, "proxy-status to show the NACK", func() bool {
		out, _, code := w.weftctl(t, "", "proxy-status")
		return code == 0 && strings.Contains(out, "bad.default") && strings.Contains(out, "NACK") &&
			strings.Contains(out, "unsupported field lb_subset_config") && strings.Contains(out, "good.default")
	})
	out, _, _ := w.weftctl(t, "", "proxy-status", "good")
	if !strings.Contains(out, "SYNCED") || strings.Contains(out, "bad.default") {
		t.Errorf("proxy-status good:\n%s", out)
	}
	// A new service changes every proxy's clusters: the good proxy still gets pushes.
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{name: http, port: 80}], selector: {app: web}}\n"
	if out, errOut, code := w.weftctl(t, svc, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	g2 := good.recv()
	if g2.VersionInfo == g1.VersionInfo {
		t.Fatalf("no new version pushed to the good proxy")
	}
	found := false
	for _, r := range g2.Resources {
		if strings.Contains(string(r.Value), "outbound|80||web.default.svc.cluster.local") {
			found = true
		}
	}
	if !found {
		t.Errorf("the new service's cluster is not in the push")
	}
}
