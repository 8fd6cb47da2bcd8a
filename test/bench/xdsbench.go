package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

// Targets of the benchmark issue for xDS.
const (
	targetRoutePushMs    = 1000
	targetEndpointPushMs = 200
	targetXDSMemoryMB    = 512
)

// Row names the charts pick.
const (
	xdsRouteP50    = "route change: push → a proxy's ACK, p50 over proxies"
	xdsRouteP99    = "route change: push → a proxy's ACK, p99 over proxies"
	xdsRouteAll    = "route change: push → all proxies ACKed (slowest change of the round)"
	xdsEndpointP50 = "endpoint change: push → a proxy's ACK, p50 over proxies"
	xdsEndpointP99 = "endpoint change: push → a proxy's ACK, p99 over proxies"
	xdsEndpointAll = "endpoint change: push → all proxies ACKed (slowest change of the round)"
)

// The four xDS types, in the order of adsClient's arrays.
var adsTypes = [4]string{resourcev3.ClusterType, resourcev3.EndpointType, resourcev3.ListenerType, resourcev3.RouteType}

const (
	adsCDS = iota
	adsEDS
	adsLDS
	adsRDS
)

// adsClient is a simulated proxy: one gRPC connection, one ADS stream
// (state of the world), subscribed to every type with wildcards; it ACKs
// every response at once and records when it ACKed a version other than
// the one marked.
type adsClient struct {
	conn   *grpc.ClientConn
	stream discovery.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	node   *corev3.Node

	mu       sync.Mutex
	version  [4]string    // last version ACKed, per type
	mark     [4]string    // the version before the change being timed
	changed  [4]time.Time // when a version other than mark was first ACKed
	bytes    int64        // resource bytes received
	err      error        // the stream's end
	finished chan struct{}
}

func newADSClient(ctx context.Context, addr, nodeID string, labels map[string]string) (*adsClient, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return nil, err
	}
	lv := map[string]any{}
	for k, v := range labels {
		lv[k] = v
	}
	md, _ := structpb.NewStruct(map[string]any{"LABELS": lv})
	c := &adsClient{conn: conn, node: &corev3.Node{Id: nodeID, Metadata: md, UserAgentName: "weft-bench"}, finished: make(chan struct{})}
	c.stream, err = discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for t := range adsTypes {
		req := &discovery.DiscoveryRequest{TypeUrl: adsTypes[t], ResourceNames: adsNames(t)}
		if t == 0 {
			req.Node = c.node
		}
		if err := c.stream.Send(req); err != nil {
			conn.Close()
			return nil, err
		}
	}
	go c.loop()
	return c, nil
}

// adsNames is a type's subscription: CDS and LDS wildcard by omission
// (Envoy's way), EDS and RDS by the explicit wildcard "*".
func adsNames(t int) []string {
	if t == adsEDS || t == adsRDS {
		return []string{"*"}
	}
	return nil
}

func (c *adsClient) loop() {
	defer close(c.finished)
	for {
		resp, err := c.stream.Recv()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		t := -1
		for i, u := range adsTypes {
			if u == resp.GetTypeUrl() {
				t = i
			}
		}
		if t < 0 {
			continue
		}
		n := 0
		for _, r := range resp.GetResources() {
			n += len(r.GetValue())
		}
		ack := &discovery.DiscoveryRequest{TypeUrl: resp.GetTypeUrl(), VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(), ResourceNames: adsNames(t)}
		if err := c.stream.Send(ack); err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		now := time.Now()
		c.mu.Lock()
		c.bytes += int64(n)
		c.version[t] = resp.GetVersionInfo()
		if c.changed[t].IsZero() && c.version[t] != c.mark[t] {
			c.changed[t] = now
		}
		c.mu.Unlock()
	}
}

// markAll notes type t's current version, before a change.
func (c *adsClient) markType(t int) {
	c.mu.Lock()
	c.mark[t], c.changed[t] = c.version[t], time.Time{}
	c.mu.Unlock()
}

// changedAt is when the client ACKed a version of t other than the marked
// one (zero: not yet), and the stream's error if it ended.
func (c *adsClient) changedAt(t int) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed[t], c.err
}

func (c *adsClient) synced() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, v := range c.version {
		if v == "" {
			return false, c.err
		}
	}
	return true, c.err
}

func (c *adsClient) close() {
	c.conn.Close()
	<-c.finished
}

// runXDS starts the xDS server process, connects the simulated proxies,
// pushes the initial configuration, then times route and endpoint changes
// in every round.
func (b *bench) runXDS(ctx context.Context) error {
	sz := b.sz
	spec := meshSpec{services: sz.xdsServices, endpoints: sz.xdsEndpoints}
	progress("xds: starting the server with %s services × %d endpoints", count(sz.xdsServices), sz.xdsEndpoints)
	srv, err := startServe(ctx, "xds", "-services", strconv.Itoa(sz.xdsServices), "-endpoints", strconv.Itoa(sz.xdsEndpoints))
	if err != nil {
		return err
	}
	defer srv.stop()

	cctx, stopClients := context.WithCancel(ctx)
	defer stopClients()
	clients := make([]*adsClient, sz.xdsProxies)
	var next sync.Mutex
	k := 0
	start := time.Now()
	err = parallel(32, func(int) error {
		for {
			next.Lock()
			i := k
			k++
			next.Unlock()
			if i >= len(clients) {
				return nil
			}
			id, labels := spec.meshProxy(i)
			c, err := newADSClient(cctx, srv.ready, id, labels)
			if err != nil {
				return fmt.Errorf("proxy %d: %w", i, err)
			}
			clients[i] = c
		}
	})
	defer func() {
		stopClients()
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	if err != nil {
		return err
	}
	// Every proxy connected (the server knows them all) before the first
	// push, as after a control-plane restart.
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := srv.command(ctx, "proxies")
		if err != nil {
			return err
		}
		if out == "proxies "+strconv.Itoa(len(clients)) {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("xds server: %q after a minute, want %d proxies", out, len(clients))
		}
		time.Sleep(50 * time.Millisecond)
	}
	progress("xds: %d proxies connected in %s", len(clients), time.Since(start).Round(time.Millisecond))

	t0 := time.Now()
	if _, err := srv.command(ctx, "vs 90"); err != nil {
		return err
	}
	if err := awaitAll(ctx, clients, 5*time.Minute, func(c *adsClient) (bool, error) { return c.synced() }); err != nil {
		return fmt.Errorf("initial configuration: %w", err)
	}
	b.res.add(areaXDS, fmt.Sprintf("setup, once: initial configuration, push → all %s proxies ACKed every type", count(len(clients))), "s", time.Since(t0).Seconds())
	var received int64
	for _, c := range clients {
		c.mu.Lock()
		received += c.bytes
		c.mu.Unlock()
	}
	b.res.add(areaXDS, "setup, once: configuration per proxy (resources' bytes)", "KiB", float64(received)/float64(len(clients))/1024)

	weight, generation := 90, 0
	begin := time.Now()
	for round := 1; round <= sz.rounds; round++ {
		if round > 1 && time.Since(begin) > sz.xdsBudget {
			b.res.notes[areaXDS] = append(b.res.notes[areaXDS], fmt.Sprintf("**Only %d of %d rounds ran**: the rounds had taken %s, beyond this area's budget of %s (which keeps `make bench` within its time); the figures above are over those rounds.", round-1, sz.rounds, time.Since(begin).Round(time.Second), sz.xdsBudget))
			break
		}
		t := time.Now()
		meter, err := srv.startCPU()
		if err != nil {
			return err
		}
		var routes, endpoints []float64
		var routeAll, endpointAll []float64
		for range sz.xdsChanges {
			weight = 140 - weight // 90, 50, 90, ...
			lat, all, err := timeChange(ctx, srv, clients, adsRDS, "vs "+strconv.Itoa(weight))
			if err != nil {
				return fmt.Errorf("round %d, route change: %w", round, err)
			}
			routes, routeAll = append(routes, lat...), append(routeAll, all)
			generation++
			lat, all, err = timeChange(ctx, srv, clients, adsEDS, "ep "+strconv.Itoa(generation))
			if err != nil {
				return fmt.Errorf("round %d, endpoint change: %w", round, err)
			}
			endpoints, endpointAll = append(endpoints, lat...), append(endpointAll, all)
		}
		cpu, _, err := meter.stop()
		if err != nil {
			return err
		}
		rss, peak, err := srv.memory()
		if err != nil {
			return err
		}
		b.res.add(areaXDS, xdsRouteP50, "ms", percentile(routes, 50))
		b.res.add(areaXDS, xdsRouteP99, "ms", percentile(routes, 99))
		b.res.addAtMost(areaXDS, xdsRouteAll, "ms", percentile(routeAll, 100), targetRoutePushMs)
		b.res.add(areaXDS, xdsEndpointP50, "ms", percentile(endpoints, 50))
		b.res.add(areaXDS, xdsEndpointP99, "ms", percentile(endpoints, 99))
		b.res.addAtMost(areaXDS, xdsEndpointAll, "ms", percentile(endpointAll, 100), targetEndpointPushMs)
		b.res.add(areaXDS, "server CPU per change (route and endpoint changes together)", "ms", micros(cpu)/1000/float64(2*sz.xdsChanges))
		b.res.addAtMost(areaXDS, "server resident memory (VmRSS) after the round", "MB", float64(rss)/1e6, targetXDSMemoryMB)
		b.res.add(areaXDS, "server peak resident memory (VmHWM)", "MB", float64(peak)/1e6)
		b.res.samples(areaXDS, "route change: push → a proxy's ACK", len(routes))
		b.res.samples(areaXDS, "endpoint change: push → a proxy's ACK", len(endpoints))
		progress("round %d/%d: xds done in %s", round, sz.rounds, time.Since(t).Round(10*time.Millisecond))
	}
	return nil
}

// timeChange marks type t on every client, sends the push command and
// waits until every client has ACKed a new version of t. It returns each
// client's latency and the slowest, in milliseconds.
func timeChange(ctx context.Context, srv *proc, clients []*adsClient, t int, cmd string) ([]float64, float64, error) {
	if _, err := srv.command(ctx, "prep "+cmd); err != nil {
		return nil, 0, err
	}
	for _, c := range clients {
		c.markType(t)
	}
	t0 := time.Now()
	if _, err := srv.command(ctx, "push"); err != nil {
		return nil, 0, err
	}
	if err := awaitAll(ctx, clients, 2*time.Minute, func(c *adsClient) (bool, error) {
		at, err := c.changedAt(t)
		return !at.IsZero(), err
	}); err != nil {
		return nil, 0, err
	}
	lat := make([]float64, len(clients))
	for i, c := range clients {
		at, _ := c.changedAt(t)
		lat[i] = float64(at.Sub(t0)) / float64(time.Millisecond)
	}
	return lat, percentile(lat, 100), nil
}

// awaitAll polls until done holds for every client.
func awaitAll(ctx context.Context, clients []*adsClient, limit time.Duration, done func(*adsClient) (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		waiting := 0
		for _, c := range clients {
			ok, err := done(c)
			if err != nil {
				return fmt.Errorf("proxy %s: stream ended: %w", c.node.GetId(), err)
			}
			if !ok {
				waiting++
			}
		}
		if waiting == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d proxies still waiting after %s", waiting, len(clients), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}
