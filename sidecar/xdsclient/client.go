package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/anypb"
)

// Config configures a Client.
type Config struct {
	// Addr is the control plane's host:port (plaintext gRPC, like istiod's 15010).
	Addr string
	Node *corev3.Node
	// TokenFile, when set, is read at every connect and sent as a bearer token.
	TokenFile string
	// OnUpdate receives every accepted State, serially, from the client's
	// goroutine. An error NACKs the update with the error's message (the
	// state is kept: the data plane applied what it could).
	OnUpdate func(*State) error
	Logger   *zap.Logger
	// BackoffBase and BackoffMax bound the jittered exponential reconnect
	// back-off (defaults 500ms and 30s).
	BackoffBase, BackoffMax time.Duration
	DialOptions             []grpc.DialOption
	// Delta selects incremental ADS (DeltaAggregatedResources) instead of
	// state of the world.
	Delta bool
}

// Client is an ADS client, state of the world or (Config.Delta) delta. It decodes and validates every
// response, ACKs what it accepts, NACKs with a precise message what it
// cannot honour (keeping the last good resources), follows the RDS/EDS names
// the listeners and clusters reference, and reconnects with jittered
// back-off, never dropping the accepted state.
type Client struct {
	cfg Config
	log *zap.Logger

	mu        sync.Mutex
	state     *State
	status    map[string]*TypeStatus
	connected bool
	streams   int
}

// New returns a Client; call Run to start it.
func New(cfg Config) *Client {
	if cfg.BackoffBase == 0 {
		cfg.BackoffBase = 500 * time.Millisecond
	}
	if cfg.BackoffMax == 0 {
		cfg.BackoffMax = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	c := &Client{cfg: cfg, log: log, state: newState(), status: map[string]*TypeStatus{}}
	for _, t := range Types {
		c.status[t] = &TypeStatus{}
	}
	return c
}

// State returns the last accepted state.
func (c *Client) State() *State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Status returns a copy of the per-type status and whether a stream is up.
func (c *Client) Status() (map[string]TypeStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]TypeStatus, len(c.status))
	for k, v := range c.status {
		out[k] = *v
	}
	return out, c.connected
}

// Run connects and serves until ctx ends. It only returns ctx.Err().
func (c *Client) Run(ctx context.Context) error {
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
	}, c.cfg.DialOptions...)
	cc, err := grpc.NewClient(c.cfg.Addr, opts...)
	if err != nil {
		// Only a malformed target fails here; retrying will not help.
		c.log.Error("xds: bad control plane address", zap.String("addr", c.cfg.Addr), zap.Error(err))
		<-ctx.Done()
		return ctx.Err()
	}
	defer cc.Close()
	failures := 0
	for {
		var good bool
		if c.cfg.Delta {
			good, err = c.deltaStream(ctx, cc)
		} else {
			good, err = c.stream(ctx, cc)
		}
		c.setConnected(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if good {
			failures = 0
		}
		d := backoff(c.cfg.BackoffBase, c.cfg.BackoffMax, failures)
		failures++
		c.log.Warn("xds: stream ended; keeping last good config", zap.Error(err), zap.Duration("retry_in", d))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff is exponential with full jitter: uniform in [base/2, min(max, base*2^n)].
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return base/2 + time.Duration(rand.Int64N(int64(d-base/2)+1))
}

func (c *Client) setConnected(v bool) {
	c.mu.Lock()
	c.connected = v
	if v {
		c.streams++
	}
	c.mu.Unlock()
}

// stream runs one ADS stream; good reports whether it accepted anything.
func (c *Client) stream(ctx context.Context, cc *grpc.ClientConn) (good bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, err = c.withToken(ctx)
	if err != nil {
		return false, err
	}
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(cc).StreamAggregatedResources(ctx)
	if err != nil {
		return false, fmt.Errorf("open ads stream: %w", err)
	}
	s := &session{c: c, st: st, nonces: map[string]string{}, names: map[string][]string{}}
	// Wildcard subscriptions first; RDS/EDS follow from what arrives, but on
	// a reconnect we re-request what we already follow.
	state := c.State()
	for _, t := range Types {
		var names []string
		switch t {
		case xdsresource.RouteType:
			names = state.RouteNames()
		case xdsresource.EndpointType:
			names = state.EndpointNames()
		}
		if (t == xdsresource.RouteType || t == xdsresource.EndpointType) && len(names) == 0 {
			continue
		}
		if err := s.send(t, state.Versions[t], names, nil); err != nil {
			return false, err
		}
	}
	c.setConnected(true)
	return receive("ads", st.Recv, s.handle)
}

// receive feeds each response of a stream (state of the world or delta)
// to handle until the stream or handle fails. good reports whether any
// response was applied, so a reconnect after a good stream resets the
// back-off.
func receive[R any](what string, recv func() (R, error), handle func(R) (bool, error)) (good bool, err error) {
	for {
		resp, err := recv()
		if err != nil {
			return good, fmt.Errorf("%s recv: %w", what, err)
		}
		ok, err := handle(resp)
		if err != nil {
			return good, err
		}
		good = good || ok
	}
}

// withToken adds the bearer token, read anew at every connect.
func (c *Client) withToken(ctx context.Context) (context.Context, error) {
	if c.cfg.TokenFile == "" {
		return ctx, nil
	}
	tok, err := os.ReadFile(c.cfg.TokenFile)
	if err != nil {
		return ctx, fmt.Errorf("read token file: %w", err)
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+strings.TrimSpace(string(tok))), nil
}

type session struct {
	c        *Client
	st       discoveryv3.AggregatedDiscoveryService_StreamAggregatedResourcesClient
	nonces   map[string]string
	names    map[string][]string
	sentNode bool
}

func (s *session) send(typ, version string, names []string, nack error) error {
	req := &discoveryv3.DiscoveryRequest{
		TypeUrl:       typ,
		VersionInfo:   version,
		ResourceNames: names,
		ResponseNonce: s.nonces[typ],
	}
	if !s.sentNode {
		req.Node = s.c.cfg.Node
		s.sentNode = true
	}
	if nack != nil {
		req.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: nack.Error()}
	}
	s.names[typ] = names
	if err := s.st.Send(req); err != nil {
		return fmt.Errorf("ads send %s: %w", shortType(typ), err)
	}
	return nil
}

func shortType(t string) string { return t[strings.LastIndexByte(t, '.')+1:] }

// handle processes one response; ok reports whether it was accepted.
func (s *session) handle(resp *discoveryv3.DiscoveryResponse) (bool, error) {
	c := s.c
	typ := resp.GetTypeUrl()
	s.nonces[typ] = resp.GetNonce()
	old := c.State()
	next, err := decode(old, typ, resp.GetResources())
	log := c.log.With(zap.String("type", shortType(typ)), zap.String("version", resp.GetVersionInfo()))
	if err != nil {
		c.recordNACK(typ, resp.GetVersionInfo(), resp.GetNonce(), err)
		log.Warn("xds: NACK", zap.Error(err))
		return false, s.send(typ, old.Versions[typ], s.names[typ], err)
	}
	next.Versions[typ] = resp.GetVersionInfo()
	next.Changed = typ
	c.mu.Lock()
	c.state = next
	c.mu.Unlock()
	var applyErr error
	if c.cfg.OnUpdate != nil {
		applyErr = c.cfg.OnUpdate(next)
	}
	if applyErr != nil {
		c.recordNACK(typ, resp.GetVersionInfo(), resp.GetNonce(), applyErr)
		log.Warn("xds: NACK (apply)", zap.Error(applyErr))
		if err := s.send(typ, resp.GetVersionInfo(), s.names[typ], applyErr); err != nil {
			return false, err
		}
	} else {
		c.recordACK(typ, resp.GetVersionInfo(), resp.GetNonce())
		log.Debug("xds: ACK", zap.Int("resources", len(resp.GetResources())))
		if err := s.send(typ, resp.GetVersionInfo(), s.names[typ], nil); err != nil {
			return false, err
		}
	}
	// Follow the names listeners and clusters reference.
	switch typ {
	case xdsresource.ListenerType:
		if names := next.RouteNames(); !slices.Equal(names, s.names[xdsresource.RouteType]) {
			if err := s.send(xdsresource.RouteType, next.Versions[xdsresource.RouteType], names, nil); err != nil {
				return true, err
			}
		}
	case xdsresource.ClusterType:
		if names := next.EndpointNames(); !slices.Equal(names, s.names[xdsresource.EndpointType]) {
			if err := s.send(xdsresource.EndpointType, next.Versions[xdsresource.EndpointType], names, nil); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

func (c *Client) recordNACK(typ, version, nonce string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status[typ]
	if st == nil {
		st = &TypeStatus{}
		c.status[typ] = st
	}
	st.LastNACK = fmt.Sprintf("version %s: %v", version, err)
	st.NACKs++
	st.Nonce = nonce
}

func (c *Client) recordACK(typ, version, nonce string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.status[typ]
	st.Version, st.Nonce, st.Updated = version, nonce, time.Now()
	st.ACKs++
	st.Names = c.state.names(typ)
}

func (s *State) names(typ string) []string {
	set := map[string]bool{}
	for n := range s.Raw[typ] {
		set[n] = true
	}
	return sorted(set)
}

// ErrUnknownType is returned for a response of a type the client never asked for.
var ErrUnknownType = errors.New("unsupported resource type")

// decode validates a response against the old state and returns the new
// state. Any invalid resource rejects the whole response.
func decode(old *State, typ string, resources []*anypb.Any) (*State, error) {
	next := old.clone()
	raw := map[string]*anypb.Any{}
	var errs []error
	add := func(name string, a *anypb.Any) bool {
		if _, dup := raw[name]; dup {
			errs = append(errs, fmt.Errorf("resource %q: sent twice", name))
			return false
		}
		raw[name] = a
		return true
	}
	switch typ {
	case xdsresource.ListenerType:
		next.Listeners = map[string]*xdsresource.Listener{}
		for _, a := range resources {
			l, err := xdsresource.UnmarshalListener(a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if add(l.Name, a) {
				next.Listeners[l.Name] = l
			}
		}
		// Route configurations no listener references any more are dropped.
		keep := map[string]bool{}
		for _, n := range next.RouteNames() {
			keep[n] = true
		}
		prune(next.Routes, next.Raw[xdsresource.RouteType], keep)
	case xdsresource.ClusterType:
		next.Clusters = map[string]*xdsresource.Cluster{}
		for _, a := range resources {
			cl, err := xdsresource.UnmarshalCluster(a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if add(cl.Name, a) {
				next.Clusters[cl.Name] = cl
			}
		}
		keep := map[string]bool{}
		for _, n := range next.EndpointNames() {
			keep[n] = true
		}
		prune(next.Endpoints, next.Raw[xdsresource.EndpointType], keep)
	case xdsresource.RouteType:
		// State of the world for RDS: the response holds every resource
		// we subscribed to that exists.
		for _, a := range resources {
			rc, err := xdsresource.UnmarshalRouteConfiguration(a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if add(rc.Name, a) {
				next.Routes[rc.Name] = rc
			}
		}
		for k, v := range next.Raw[typ] {
			if _, ok := raw[k]; !ok {
				raw[k] = v
			}
		}
	case xdsresource.EndpointType:
		for _, a := range resources {
			cla, err := xdsresource.UnmarshalClusterLoadAssignment(a)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if add(cla.ClusterName, a) {
				next.Endpoints[cla.ClusterName] = cla
			}
		}
		for k, v := range next.Raw[typ] {
			if _, ok := raw[k]; !ok {
				raw[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	next.Raw[typ] = raw
	return next, nil
}

func prune[T any](m map[string]T, raw map[string]*anypb.Any, keep map[string]bool) {
	for k := range m {
		if !keep[k] {
			delete(m, k)
			delete(raw, k)
		}
	}
}
