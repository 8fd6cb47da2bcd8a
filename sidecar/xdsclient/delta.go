package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
)

// wildcard subscribes to every resource of a type (LDS and CDS).
const wildcard = "*"

// deltaSession is one incremental ADS stream. subs holds the explicit
// subscriptions (RDS and EDS names); LDS and CDS are wildcards.
type deltaSession struct {
	c        *Client
	st       discoveryv3.AggregatedDiscoveryService_DeltaAggregatedResourcesClient
	subs     map[string]map[string]bool
	sentNode bool
}

// deltaStream runs one DeltaAggregatedResources stream; good reports
// whether it accepted anything. On (re)connect every type is subscribed
// with the versions of the resources already held, so the server sends
// only what changed and removes what went away while we were gone.
func (c *Client) deltaStream(ctx context.Context, cc *grpc.ClientConn) (good bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx, err = c.withToken(ctx)
	if err != nil {
		return false, err
	}
	st, err := discoveryv3.NewAggregatedDiscoveryServiceClient(cc).DeltaAggregatedResources(ctx)
	if err != nil {
		return false, fmt.Errorf("open delta ads stream: %w", err)
	}
	s := &deltaSession{c: c, st: st, subs: map[string]map[string]bool{}}
	state := c.State()
	for _, t := range Types {
		names := []string{wildcard}
		switch t {
		case xdsresource.RouteType:
			names = state.RouteNames()
		case xdsresource.EndpointType:
			names = state.EndpointNames()
		}
		if len(names) == 0 {
			continue
		}
		initial, want := map[string]string{}, setOf(names)
		for n, v := range state.ResourceVersions[t] {
			if want[wildcard] || want[n] {
				initial[n] = v
			}
		}
		if names[0] != wildcard {
			s.subs[t] = setOf(names)
		}
		if err := s.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: t, ResourceNamesSubscribe: names, InitialResourceVersions: initial}); err != nil {
			return false, err
		}
	}
	c.setConnected(true)
	return receive("delta ads", st.Recv, s.handle)
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (s *deltaSession) send(req *discoveryv3.DeltaDiscoveryRequest) error {
	if !s.sentNode {
		req.Node = s.c.cfg.Node
		s.sentNode = true
	}
	if err := s.st.Send(req); err != nil {
		return fmt.Errorf("delta ads send %s: %w", shortType(req.TypeUrl), err)
	}
	return nil
}

// handle applies one response onto the last good state; ok reports
// whether it was accepted. Then it follows the RDS and EDS names the
// listeners and clusters reference, subscribing and unsubscribing the
// difference.
func (s *deltaSession) handle(resp *discoveryv3.DeltaDiscoveryResponse) (bool, error) {
	c := s.c
	typ, version, nonce := resp.GetTypeUrl(), resp.GetSystemVersionInfo(), resp.GetNonce()
	log := c.log.With(zap.String("type", shortType(typ)), zap.String("version", version))
	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResponseNonce: nonce}
	next, err := decodeDelta(c.State(), typ, resp.GetResources(), resp.GetRemovedResources())
	if err != nil {
		c.recordNACK(typ, version, nonce, err)
		log.Warn("xds: delta NACK", zap.Error(err))
		ack.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
		return false, s.send(ack)
	}
	next.Versions[typ] = version
	next.Changed = typ
	c.mu.Lock()
	c.state = next
	c.mu.Unlock()
	var applyErr error
	if c.cfg.OnUpdate != nil {
		applyErr = c.cfg.OnUpdate(next)
	}
	if applyErr != nil {
		c.recordNACK(typ, version, nonce, applyErr)
		log.Warn("xds: delta NACK (apply)", zap.Error(applyErr))
		ack.ErrorDetail = &status.Status{Code: int32(codes.InvalidArgument), Message: applyErr.Error()}
	} else {
		c.recordACK(typ, version, nonce)
		log.Debug("xds: delta ACK", zap.Int("added", len(resp.GetResources())), zap.Int("removed", len(resp.GetRemovedResources())))
	}
	if err := s.send(ack); err != nil {
		return false, err
	}
	switch typ {
	case xdsresource.ListenerType:
		return true, s.follow(xdsresource.RouteType, next.RouteNames())
	case xdsresource.ClusterType:
		return true, s.follow(xdsresource.EndpointType, next.EndpointNames())
	}
	return true, nil
}

// follow makes the explicit subscription of typ equal to names.
func (s *deltaSession) follow(typ string, names []string) error {
	want := setOf(names)
	cur := s.subs[typ]
	var sub, unsub []string
	for _, n := range names {
		if !cur[n] {
			sub = append(sub, n)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(cur)) {
		if !want[n] {
			unsub = append(unsub, n)
		}
	}
	if len(sub)+len(unsub) == 0 {
		return nil
	}
	s.subs[typ] = want
	return s.send(&discoveryv3.DeltaDiscoveryRequest{TypeUrl: typ, ResourceNamesSubscribe: sub, ResourceNamesUnsubscribe: unsub})
}

// decodeDelta validates the added resources and applies them and the
// removals onto the old state. Any invalid resource rejects the whole
// response. Route configurations and endpoint assignments no listener or
// cluster references any more are dropped.
func decodeDelta(old *State, typ string, added []*discoveryv3.Resource, removed []string) (*State, error) {
	if !slices.Contains(Types, typ) {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	next := old.clone()
	raw, vers := next.Raw[typ], next.ResourceVersions[typ]
	if raw == nil {
		raw = map[string]*anypb.Any{}
		next.Raw[typ] = raw
	}
	if vers == nil {
		vers = map[string]string{}
		next.ResourceVersions[typ] = vers
	}
	var errs []error
	seen := map[string]bool{}
	for _, r := range added {
		if r.GetResource() == nil {
			errs = append(errs, fmt.Errorf("resource %q: no body", r.GetName()))
			continue
		}
		name, err := unmarshalInto(next, typ, r.GetResource())
		switch {
		case err != nil:
			errs = append(errs, err)
		case r.GetName() != "" && r.GetName() != name:
			errs = append(errs, fmt.Errorf("resource %q: body is named %q", r.GetName(), name))
		case seen[name]:
			errs = append(errs, fmt.Errorf("resource %q: sent twice", name))
		default:
			seen[name] = true
			raw[name], vers[name] = r.GetResource(), r.GetVersion()
		}
	}
	for _, n := range removed {
		if seen[n] {
			errs = append(errs, fmt.Errorf("resource %q: both added and removed", n))
			continue
		}
		remove(next, typ, n)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	switch typ {
	case xdsresource.ListenerType:
		keepOnly(next, xdsresource.RouteType, next.RouteNames())
	case xdsresource.ClusterType:
		keepOnly(next, xdsresource.EndpointType, next.EndpointNames())
	}
	return next, nil
}

// unmarshalInto decodes one resource of typ into next and returns its name.
func unmarshalInto(next *State, typ string, a *anypb.Any) (string, error) {
	switch typ {
	case xdsresource.ListenerType:
		l, err := xdsresource.UnmarshalListener(a)
		if err != nil {
			return "", err
		}
		next.Listeners[l.Name] = l
		return l.Name, nil
	case xdsresource.ClusterType:
		cl, err := xdsresource.UnmarshalCluster(a)
		if err != nil {
			return "", err
		}
		next.Clusters[cl.Name] = cl
		return cl.Name, nil
	case xdsresource.RouteType:
		rc, err := xdsresource.UnmarshalRouteConfiguration(a)
		if err != nil {
			return "", err
		}
		next.Routes[rc.Name] = rc
		return rc.Name, nil
	case xdsresource.EndpointType:
		cla, err := xdsresource.UnmarshalClusterLoadAssignment(a)
		if err != nil {
			return "", err
		}
		next.Endpoints[cla.ClusterName] = cla
		return cla.ClusterName, nil
	}
	return "", fmt.Errorf("%w %q", ErrUnknownType, typ)
}

// remove drops resource name of typ from s.
func remove(s *State, typ, name string) {
	switch typ {
	case xdsresource.ListenerType:
		delete(s.Listeners, name)
	case xdsresource.ClusterType:
		delete(s.Clusters, name)
	case xdsresource.RouteType:
		delete(s.Routes, name)
	case xdsresource.EndpointType:
		delete(s.Endpoints, name)
	}
	delete(s.Raw[typ], name)
	delete(s.ResourceVersions[typ], name)
}

// keepOnly drops the resources of typ not named in keep.
func keepOnly(s *State, typ string, keep []string) {
	want := setOf(keep)
	for n := range s.Raw[typ] {
		if !want[n] {
			remove(s, typ, n)
		}
	}
	for n := range s.ResourceVersions[typ] {
		if !want[n] {
			remove(s, typ, n)
		}
	}
}
