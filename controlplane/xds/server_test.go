package xds

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// startServer runs a Server on 127.0.0.1:0 until the test ends.
func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = 5 * time.Millisecond
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, lis.Addr().String()
}

// adsClient is a raw SotW ADS client that records every response.
type adsClient struct {
	t      *testing.T
	node   *corev3.Node
	stream discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient

	mu    sync.Mutex
	resps []*discovery.DiscoveryResponse
	got   chan *discovery.DiscoveryResponse
}

func dialADS(t *testing.T, addr, nodeID string, meta map[string]any) *adsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	md, err := structpb.NewStruct(meta)
	if err != nil {
		t.Fatal(err)
	}
	c := &adsClient{t: t, node: &corev3.Node{Id: nodeID, Metadata: md}, stream: stream, got: make(chan *discovery.DiscoveryResponse, 100)}
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				close(c.got)
				return
			}
			c.mu.Lock()
			c.resps = append(c.resps, r)
			c.mu.Unlock()
			c.got <- r
		}
	}()
	return c
}

func (c *adsClient) send(req *discovery.DiscoveryRequest) {
	c.t.Helper()
	req.Node = c.node
	if err := c.stream.Send(req); err != nil {
		c.t.Fatal(err)
	}
}

// next waits for the next response.
func (c *adsClient) next() *discovery.DiscoveryResponse {
	c.t.Helper()
	select {
	case r, ok := <-c.got:
		if !ok {
			c.t.Fatal("stream closed")
		}
		return r
	case <-time.After(5 * time.Second):
		c.t.Fatal("no response within 5s")
	}
	return nil
}

func (c *adsClient) ack(r *discovery.DiscoveryResponse, names ...string) {
	c.send(&discovery.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), VersionInfo: r.GetVersionInfo(), ResponseNonce: r.GetNonce(), ResourceNames: names})
}

func (c *adsClient) nack(r *discovery.DiscoveryResponse, prevVersion, msg string) {
	c.send(&discovery.DiscoveryRequest{TypeUrl: r.GetTypeUrl(), VersionInfo: prevVersion, ResponseNonce: r.GetNonce(), ErrorDetail: &statuspb.Status{Code: 3, Message: msg}})
}

// subscribeAll opens wildcard watches for the four types and ACKs the
// first response of each; it returns the responses by type.
func (c *adsClient) subscribeAll() map[string]*discovery.DiscoveryResponse {
	c.t.Helper()
	for _, u := range typeURLs {
		c.send(&discovery.DiscoveryRequest{TypeUrl: u})
	}
	out := map[string]*discovery.DiscoveryResponse{}
	for len(out) < 4 {
		r := c.next()
		out[r.GetTypeUrl()] = r
		c.ack(r)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func statusOf(s *Server, id string) (ProxyStatus, bool) {
	for _, ps := range s.Status() {
		if ps.ID == id {
			return ps, true
		}
	}
	return ProxyStatus{}, false
}

func allState(ps ProxyStatus, state string) bool {
	for _, ts := range ps.Types {
		if ts.State != state {
			return false
		}
	}
	return true
}

func bookinfoMesh(t testing.TB, rules ...string) *Mesh {
	b := (&meshBuilder{}).addFile(t, bookinfoDir+"/platform/kube/bookinfo.yaml").
		addFile(t, bookinfoDir+"/networking/destination-rule-all.yaml")
	for _, r := range rules {
		b.addFile(t, bookinfoDir+"/networking/"+r)
	}
	return b.mesh()
}

const bookinfoDir = "../../testdata/corpus/istio/samples/bookinfo"

const (
	productpageID = "sidecar~10.1.7.1~productpage-v1-0.default~default.svc.cluster.local"
	reviewsID     = "sidecar~10.1.4.1~reviews-v1-0.default~default.svc.cluster.local"
)

func sidecarMeta(labels map[string]any) map[string]any {
	return map[string]any{"NAMESPACE": "default", "LABELS": labels}
}

// TestADSAckNack drives the server with raw ADS streams: ACKs are
// recorded as SYNCED; a NACK is recorded with its reason, is not answered
// with the same config again, and pushes to other proxies go on.
func TestADSAckNack(t *testing.T) {
	s, addr := startServer(t, Options{})
	s.Push(bookinfoMesh(t))

	a := dialADS(t, addr, productpageID, sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
	b := dialADS(t, addr, reviewsID, sidecarMeta(map[string]any{"app": "reviews", "version": "v1"}))
	first := a.subscribeAll()
	b.subscribeAll()
	if len(first[resourcev3.ClusterType].GetResources()) == 0 {
		t.Fatal("no clusters")
	}
	waitFor(t, "both proxies SYNCED", func() bool {
		pa, ok1 := statusOf(s, productpageID)
		pb, ok2 := statusOf(s, reviewsID)
		return ok1 && ok2 && allState(pa, StateSynced) && allState(pb, StateSynced)
	})

	// A route change: only RDS is pushed (clusters, endpoints, listeners
	// are unchanged), to both.
	s.Push(bookinfoMesh(t, "virtual-service-all-v1.yaml"))
	ra, rb := a.next(), b.next()
	if ra.GetTypeUrl() != resourcev3.RouteType || rb.GetTypeUrl() != resourcev3.RouteType {
		t.Fatalf("pushed %s and %s, want only RDS", ra.GetTypeUrl(), rb.GetTypeUrl())
	}
	// a rejects it; b accepts.
	a.nack(ra, first[resourcev3.RouteType].GetVersionInfo(), "route: unknown field")
	b.ack(rb)
	waitFor(t, "NACK recorded", func() bool {
		pa, _ := statusOf(s, productpageID)
		return pa.Types[tRDS].State == StateNACK
	})
	pa, _ := statusOf(s, productpageID)
	if got := pa.Types[tRDS]; got.Error != "route: unknown field" || got.NACKVersion != ra.GetVersionInfo() {
		t.Errorf("RDS status = %+v, want the NACK's reason and version %s", got, ra.GetVersionInfo())
	}
	if pa.Types[tCDS].State != StateSynced {
		t.Errorf("CDS = %s, want SYNCED", pa.Types[tCDS].State)
	}
	// No push storm: nothing is re-sent to a.
	select {
	case r := <-a.got:
		t.Fatalf("NACK answered with %s version %s", r.GetTypeUrl(), r.GetVersionInfo())
	case <-time.After(200 * time.Millisecond):
	}

	// The next change reaches both; a accepts it and is SYNCED again.
	s.Push(bookinfoMesh(t, "virtual-service-reviews-50-v3.yaml"))
	ra, rb = a.next(), b.next()
	a.ack(ra)
	b.ack(rb)
	waitFor(t, "a SYNCED after a newer version", func() bool {
		pa, _ := statusOf(s, productpageID)
		pb, _ := statusOf(s, reviewsID)
		return allState(pa, StateSynced) && allState(pb, StateSynced)
	})
}

// TestEndpointOnlyPush: when only endpoints change, only EDS is pushed.
func TestEndpointOnlyPush(t *testing.T) {
	s, addr := startServer(t, Options{})
	m := bookinfoMesh(t)
	s.Push(m)
	a := dialADS(t, addr, productpageID, sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
	first := a.subscribeAll()

	m2 := bookinfoMesh(t)
	for _, e := range m2.Endpoints {
		if e.Name == "ratings" {
			e.Subsets[0].Addresses[0].IP = "10.9.9.9"
		}
	}
	s.Push(m2)
	r := a.next()
	if r.GetTypeUrl() != resourcev3.EndpointType {
		t.Fatalf("pushed %s, want EDS only", r.GetTypeUrl())
	}
	if !versionAtLeast(r.GetVersionInfo(), first[resourcev3.EndpointType].GetVersionInfo()) || r.GetVersionInfo() == first[resourcev3.EndpointType].GetVersionInfo() {
		t.Errorf("EDS version %s does not go up from %s", r.GetVersionInfo(), first[resourcev3.EndpointType].GetVersionInfo())
	}
	a.ack(r)
	select {
	case r := <-a.got:
		t.Fatalf("unexpected %s push", r.GetTypeUrl())
	case <-time.After(100 * time.Millisecond):
	}
	// The same mesh again pushes nothing.
	s.Push(bookinfoMesh(t))
	s.Push(m2)
	select {
	case r := <-a.got:
		t.Fatalf("unchanged view pushed %s", r.GetTypeUrl())
	case <-time.After(100 * time.Millisecond):
	}
}

// TestMakeBeforeBreak: a new cluster arrives before the routes naming it,
// and a removed one stays until the proxy has accepted routes without it.
func TestMakeBeforeBreak(t *testing.T) {
	s, addr := startServer(t, Options{})
	m := bookinfoMesh(t)
	s.Push(m)
	a := dialADS(t, addr, productpageID, sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
	a.subscribeAll()

	// Add a service and route reviews to it: CDS (with the new cluster)
	// must come before RDS.
	b := (&meshBuilder{}).addFile(t, bookinfoDir+"/platform/kube/bookinfo.yaml").
		addFile(t, bookinfoDir+"/networking/destination-rule-all.yaml").
		addFile(t, "testdata/reviews-canary.yaml")
	s.Push(b.mesh())
	var order []string
	for len(order) < 4 {
		r := a.next()
		order = append(order, r.GetTypeUrl())
		a.ack(r)
		if r.GetTypeUrl() == resourcev3.RouteType {
			break
		}
	}
	if idx := indexOf(order, resourcev3.ClusterType); idx < 0 || idx > indexOf(order, resourcev3.RouteType) {
		t.Fatalf("push order %v: CDS must precede RDS", order)
	}

	// Remove it again: the cluster is held in the push that drops the route,
	// then trimmed once LDS and RDS are ACKed.
	s.Push(m)
	sawHeld := false
	deadline := time.After(5 * time.Second)
	for {
		var r *discovery.DiscoveryResponse
		select {
		case r = <-a.got:
		case <-deadline:
			t.Fatal("cluster never trimmed")
		}
		a.ack(r)
		if r.GetTypeUrl() != resourcev3.ClusterType {
			continue
		}
		has := false
		for _, res := range r.GetResources() {
			if containsBytes(res.GetValue(), "reviews-canary") {
				has = true
			}
		}
		if has {
			sawHeld = true
		} else {
			break
		}
	}
	if !sawHeld {
		t.Error("removed cluster was not held for one push")
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func containsBytes(b []byte, s string) bool {
	return len(s) > 0 && (string(b) == s || len(b) >= len(s) && (func() bool {
		for i := 0; i+len(s) <= len(b); i++ {
			if string(b[i:i+len(s)]) == s {
				return true
			}
		}
		return false
	})())
}

// TestDeltaADS: a delta stream is served and its ACKs recorded.
func TestDeltaADS(t *testing.T) {
	s, addr := startServer(t, Options{})
	s.Push(bookinfoMesh(t))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := structpb.NewStruct(sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
	node := &corev3.Node{Id: productpageID, Metadata: md}
	if err := stream.Send(&discovery.DeltaDiscoveryRequest{Node: node, TypeUrl: resourcev3.ClusterType}); err != nil {
		t.Fatal(err)
	}
	r, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.GetResources()) == 0 {
		t.Fatal("no clusters in delta response")
	}
	if err := stream.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: r.GetNonce()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delta CDS SYNCED", func() bool {
		ps, ok := statusOf(s, productpageID)
		return ok && ps.Types[tCDS].State == StateSynced
	})
	// A NACK is recorded and not answered.
	b := (&meshBuilder{}).addFile(t, bookinfoDir+"/platform/kube/bookinfo.yaml").
		addFile(t, bookinfoDir+"/networking/destination-rule-all.yaml").
		addFile(t, "testdata/reviews-canary.yaml")
	s.Push(b.mesh()) // a new service: CDS changes
	r, err = stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&discovery.DeltaDiscoveryRequest{TypeUrl: resourcev3.ClusterType, ResponseNonce: r.GetNonce(), ErrorDetail: &statuspb.Status{Message: "bad cluster"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delta NACK", func() bool {
		ps, _ := statusOf(s, productpageID)
		return ps.Types[tCDS].State == StateNACK && ps.Types[tCDS].Error == "bad cluster"
	})
	got := make(chan *discovery.DeltaDiscoveryResponse, 1)
	go func() {
		if r, err := stream.Recv(); err == nil {
			got <- r
		}
	}()
	select {
	case r := <-got:
		t.Fatalf("delta NACK answered with %d resources", len(r.GetResources()))
	case <-time.After(200 * time.Millisecond):
	}
}

// TestInflightBudget: with a budget smaller than any response, proxies are
// still served, one response at a time, each when the previous one is
// answered.
func TestInflightBudget(t *testing.T) {
	s, addr := startServer(t, Options{MaxInflightBytes: 1})
	s.Push(bookinfoMesh(t))
	a := dialADS(t, addr, productpageID, sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
	b := dialADS(t, addr, reviewsID, sidecarMeta(map[string]any{"app": "reviews", "version": "v1"}))
	for _, c := range []*adsClient{a, b} {
		for _, u := range typeURLs {
			c.send(&discovery.DiscoveryRequest{TypeUrl: u})
		}
	}
	// Both ACK whatever comes, from the test goroutine.
	for got := 0; got < 8; got++ {
		select {
		case r := <-a.got:
			a.ack(r)
		case r := <-b.got:
			b.ack(r)
		case <-time.After(5 * time.Second):
			t.Fatalf("%d responses, want 8", got)
		}
	}
	waitFor(t, "both proxies SYNCED", func() bool {
		pa, ok1 := statusOf(s, productpageID)
		pb, ok2 := statusOf(s, reviewsID)
		return ok1 && ok2 && allState(pa, StateSynced) && allState(pb, StateSynced)
	})
}

// TestIncrementalEDS: an endpoint change sends, on EDS, only the
// assignments that changed — to a wildcard stream and to one naming its
// clusters (as weft-proxy and Envoy do); CDS would carry every cluster.
func TestIncrementalEDS(t *testing.T) {
	for _, explicit := range []bool{false, true} {
		s, addr := startServer(t, Options{})
		s.Push(bookinfoMesh(t))
		a := dialADS(t, addr, productpageID, sidecarMeta(map[string]any{"app": "productpage", "version": "v1"}))
		first := a.subscribeAll()
		all := len(first[resourcev3.EndpointType].GetResources())
		if explicit {
			var names []string
			for _, r := range first[resourcev3.ClusterType].GetResources() {
				names = append(names, resourceNameOf(t, r.GetValue()))
			}
			a.send(&discovery.DiscoveryRequest{TypeUrl: resourcev3.EndpointType, VersionInfo: first[resourcev3.EndpointType].GetVersionInfo(),
				ResponseNonce: first[resourcev3.EndpointType].GetNonce(), ResourceNames: names})
			// Turning explicit, the stream loses track of what it was sent
			// (go-control-plane keeps only subscribed names): one full answer.
			r := a.next()
			if r.GetTypeUrl() != resourcev3.EndpointType || len(r.GetResources()) != all {
				t.Fatalf("explicit subscription answered with %s, %d resources, want EDS, %d", r.GetTypeUrl(), len(r.GetResources()), all)
			}
			a.ack(r, names...)
			select {
			case r := <-a.got:
				t.Fatalf("ACK answered with %s, %d resources", r.GetTypeUrl(), len(r.GetResources()))
			case <-time.After(100 * time.Millisecond):
			}
		}
		m2 := bookinfoMesh(t)
		for _, e := range m2.Endpoints {
			if e.Name == "ratings" {
				e.Subsets[0].Addresses[0].IP = "10.9.9.9"
			}
		}
		s.Push(m2)
		r := a.next()
		if r.GetTypeUrl() != resourcev3.EndpointType {
			t.Fatalf("pushed %s, want EDS", r.GetTypeUrl())
		}
		// ratings has subset v1 in destination-rule-all: two assignments.
		if n := len(r.GetResources()); n == 0 || n >= all || n > 2 {
			t.Errorf("explicit=%t: EDS push carries %d of %d assignments, want only ratings'", explicit, n, all)
		}
	}
}

func resourceNameOf(t *testing.T, b []byte) string {
	t.Helper()
	var c clusterv3.Cluster
	if err := proto.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.GetName()
}
