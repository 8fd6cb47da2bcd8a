package xds

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/xds"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	networking "istio.io/api/networking/v1alpha3"
)

// echoServer answers UnaryCall with its version as ServerId.
type echoServer struct {
	testgrpc.UnimplementedTestServiceServer
	version string
}

func (e *echoServer) UnaryCall(context.Context, *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{ServerId: e.version}, nil
}

func startBackend(t *testing.T, version string) int {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	testgrpc.RegisterTestServiceServer(g, &echoServer{version: version})
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return lis.Addr().(*net.TCPAddr).Port
}

// echoMesh is a service "echo" (port 7070, grpc) with two pods, v1 and v2,
// on 127.0.0.1 at the backends' ports, subsets v1 and v2, and a
// VirtualService: header x-version: v2 → v2, else v1/v2 by weight.
func echoMesh(ports map[string]int, w1, w2 int32) *Mesh {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			ClusterIP: "10.96.0.50",
			Selector:  map[string]string{"app": "echo"},
			Ports:     []corev1.ServicePort{{Name: "grpc", Port: 7070, TargetPort: intstr.FromString("grpc")}},
		},
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "default"}}
	var pods []*corev1.Pod
	for _, v := range []string{"v1", "v2"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "echo-" + v, Namespace: "default", Labels: map[string]string{"app": "echo", "version": v}},
			Status:     corev1.PodStatus{PodIP: "127.0.0.1"},
		}
		pods = append(pods, pod)
		ep.Subsets = append(ep.Subsets, corev1.EndpointSubset{
			Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1", TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod.Name, Namespace: "default"}}},
			Ports:     []corev1.EndpointPort{{Name: "grpc", Port: int32(ports[v])}},
		})
	}
	dr := &api.DestinationRule{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "default"}, Spec: &networking.DestinationRule{
		Host: "echo",
		Subsets: []*networking.Subset{
			{Name: "v1", Labels: map[string]string{"version": "v1"}},
			{Name: "v2", Labels: map[string]string{"version": "v2"}},
		},
	}}
	vs := &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "default"}, Spec: &networking.VirtualService{
		Hosts: []string{"echo"},
		Http: []*networking.HTTPRoute{
			{
				Match: []*networking.HTTPMatchRequest{{Headers: map[string]*networking.StringMatch{"x-version": {MatchType: &networking.StringMatch_Exact{Exact: "v2"}}}}},
				Route: []*networking.HTTPRouteDestination{{Destination: &networking.Destination{Host: "echo", Subset: "v2"}}},
			},
			{Route: []*networking.HTTPRouteDestination{
				{Destination: &networking.Destination{Host: "echo", Subset: "v1"}, Weight: w1},
				{Destination: &networking.Destination{Host: "echo", Subset: "v2"}, Weight: w2},
			}},
		},
	}}
	return &Mesh{Services: []*corev1.Service{svc}, Endpoints: []*corev1.Endpoints{ep}, Pods: pods,
		VirtualServices: []*api.VirtualService{vs}, DestinationRules: []*api.DestinationRule{dr}}
}

// TestGRPCInterop: grpc-go's own xDS client (xds:/// targets) reaches
// real backends through config this server serves, honouring a weighted
// split, a header match, and a weight change under load without one
// failed RPC.
func TestGRPCInterop(t *testing.T) {
	ports := map[string]int{"v1": startBackend(t, "v1"), "v2": startBackend(t, "v2")}
	s, addr := startServer(t, Options{Debounce: 10 * time.Millisecond})
	s.Push(echoMesh(ports, 80, 20))

	bootstrap := fmt.Sprintf(`{
		"xds_servers": [{"server_uri": %q, "channel_creds": [{"type": "insecure"}], "server_features": ["xds_v3"]}],
		"node": {"id": "sidecar~127.0.0.1~client-0.default~default.svc.cluster.local",
		         "metadata": {"GENERATOR": "grpc", "NAMESPACE": "default", "LABELS": {"app": "client"}}}
	}`, addr)
	resolver, err := xds.NewXDSResolverWithConfigForTesting([]byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient("xds:///echo:7070", grpc.WithResolvers(resolver), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := testgrpc.NewTestServiceClient(conn)
	call := func(ctx context.Context) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		r, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}, grpc.WaitForReady(true))
		return r.GetServerId(), err
	}
	count := func(n int, ctx context.Context) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			v, err := call(ctx)
			if err != nil {
				t.Fatalf("RPC: %v", err)
			}
			got[v]++
		}
		return got
	}

	// Weighted split 80/20: 1000 RPCs, v2 share in [13%, 27%] (> 5 sigma).
	got := count(1000, context.Background())
	if v2 := got["v2"]; v2 < 130 || v2 > 270 || got["v1"]+v2 != 1000 {
		t.Errorf("80/20 split: got %v", got)
	}
	// Header match: every RPC with x-version: v2 reaches v2.
	hdr := metadata.AppendToOutgoingContext(context.Background(), "x-version", "v2")
	if got := count(200, hdr); got["v2"] != 200 {
		t.Errorf("header match: got %v, want all v2", got)
	}
	ps, _ := statusOf(s, "sidecar~127.0.0.1~client-0.default~default.svc.cluster.local")
	if !allState(ps, StateSynced) {
		t.Errorf("proxyless client status: %+v", ps.Types)
	}

	// Weight change under load: 8 workers call continuously while the split
	// moves to 0/100; no RPC may fail, and v2 takes everything.
	var failures, total atomic.Int64
	var lastV1 atomic.Int64 // unix nanos of the last v1 answer
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				v, err := call(context.Background())
				total.Add(1)
				if err != nil {
					failures.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				if v == "v1" {
					lastV1.Store(time.Now().UnixNano())
				}
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	changed := time.Now()
	s.Push(echoMesh(ports, 0, 100))
	waitFor(t, "traffic to move to v2", func() bool {
		return time.Since(changed) > 300*time.Millisecond && time.Since(time.Unix(0, lastV1.Load())) > 200*time.Millisecond
	})
	stop()
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Errorf("%d of %d RPCs failed during the weight change; first: %v", f, total.Load(), firstErr.Load())
	}
	if got := count(200, context.Background()); got["v2"] != 200 {
		t.Errorf("after 0/100: got %v", got)
	}
	t.Logf("%d RPCs under load, %s", total.Load(), strconv.Itoa(int(failures.Load()))+" failed")
}
