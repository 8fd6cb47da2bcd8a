package xds

import (
	"context"
	"sort"
	"strconv"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
)

// Per-type sync states, as `weftctl proxy-status` prints them.
const (
	StateSynced  = "SYNCED"   // the proxy ACKed the latest version
	StateStale   = "STALE"    // a newer version is sent or pending, not ACKed yet
	StateNACK    = "NACK"     // the proxy rejected the latest version sent
	StateNotSent = "NOT SENT" // nothing sent for this type (yet)
)

// ProxyStatus is one connected proxy's sync state, per xDS type.
type ProxyStatus struct {
	ID        string
	Type      ProxyType
	Namespace string
	Name      string
	IP        string
	Streams   int
	// Types holds CDS, EDS, LDS and RDS, in that order.
	Types [4]TypeStatus
}

// TypeStatus is the state of one xDS type for one proxy.
type TypeStatus struct {
	Type  string // "CDS", "EDS", "LDS", "RDS"
	State string // StateSynced, StateStale, StateNACK or StateNotSent
	// Version is the latest version in the proxy's snapshot; SentVersion
	// and Nonce describe the last response, AckedVersion the last version
	// the proxy accepted.
	Version, SentVersion, AckedVersion, Nonce string
	// Error is the proxy's error detail when State is NACK.
	Error string
	// NACKVersion and NACKTime say which version was last rejected, and when.
	NACKVersion string
	NACKTime    time.Time
}

// Status lists every connected proxy, sorted by id.
func (s *Server) Status() []ProxyStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProxyStatus, 0, len(s.proxies))
	for id, st := range s.proxies {
		ps := ProxyStatus{ID: id, Type: st.proxy.Type, Namespace: st.proxy.Namespace, Name: st.proxy.Name, IP: st.proxy.IP, Streams: st.streams}
		for i := range numTypes {
			ts := st.status[i]
			t := TypeStatus{
				Type: TypeNames[i], Version: st.latest[i], SentVersion: ts.sentVersion, AckedVersion: ts.ackedVersion,
				Nonce: ts.sentNonce, NACKVersion: ts.nackVersion, NACKTime: ts.nackAt,
			}
			switch {
			case ts.nackNonce != "" && ts.nackNonce == ts.sentNonce:
				t.State, t.Error = StateNACK, ts.nackError
			case ts.sentVersion == "":
				t.State = StateNotSent
			case ts.ackedVersion == st.latest[i]:
				t.State = StateSynced
			default:
				t.State = StateStale
			}
			ps.Types[i] = t
		}
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func versionAtLeast(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x >= y
}

// callbacks records connections, responses, ACKs and NACKs.
func (s *Server) callbacks() serverv3.Callbacks {
	return serverv3.CallbackFuncs{
		StreamClosedFunc: func(id int64, _ *corev3.Node) { s.disconnect("s" + strconv.FormatInt(id, 10)) },
		StreamRequestFunc: func(id int64, req *discovery.DiscoveryRequest) error {
			k := "s" + strconv.FormatInt(id, 10)
			if err := s.connect(k, req.GetNode()); err != nil {
				return err
			}
			s.request(k, req.GetTypeUrl(), req.GetResponseNonce(), req.GetVersionInfo(), req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
			return nil
		},
		StreamResponseFunc: func(_ context.Context, id int64, req *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
			s.response("s"+strconv.FormatInt(id, 10), resp.GetTypeUrl(), resp.GetVersionInfo(), resp.GetNonce())
		},
		DeltaStreamClosedFunc: func(id int64, _ *corev3.Node) { s.disconnect("d" + strconv.FormatInt(id, 10)) },
		StreamDeltaRequestFunc: func(id int64, req *discovery.DeltaDiscoveryRequest) error {
			k := "d" + strconv.FormatInt(id, 10)
			if req.GetNode() != nil {
				if err := s.connect(k, req.GetNode()); err != nil {
					return err
				}
			}
			s.request(k, req.GetTypeUrl(), req.GetResponseNonce(), "", req.GetErrorDetail().GetMessage(), req.GetErrorDetail() != nil)
			return nil
		},
		StreamDeltaResponseFunc: func(id int64, req *discovery.DeltaDiscoveryRequest, resp *discovery.DeltaDiscoveryResponse) {
			s.response("d"+strconv.FormatInt(id, 10), resp.GetTypeUrl(), resp.GetSystemVersionInfo(), resp.GetNonce())
		},
	}
}

// request records a request: a subscription, an ACK or a NACK of the
// last response. A request for an older nonce is stale and ignored (as
// the server ignores it). When the proxy has accepted the listeners and
// routes of a push that held removed clusters, the loop trims them.
func (s *Server) request(streamKey, typeURL, nonce, version, errMsg string, nack bool) {
	t, ok := typeOf(typeURL)
	if !ok {
		return
	}
	s.mu.Lock()
	id, st := s.nodeOf(streamKey)
	if st == nil {
		s.mu.Unlock()
		return
	}
	ts := &st.status[t]
	ts.subscribed = true
	synced := false
	if nonce != "" && nonce == ts.sentNonce {
		if nack {
			ts.nackVersion, ts.nackNonce, ts.nackError, ts.nackAt = ts.sentVersion, nonce, errMsg, time.Now()
		} else {
			if version == "" { // delta requests carry no version
				version = ts.sentVersion
			}
			ts.ackedVersion = version
			if st.hasHeld && (t == tLDS || t == tRDS) {
				synced = true
				for _, u := range []typeIndex{tLDS, tRDS} {
					if st.status[u].subscribed && !versionAtLeast(st.status[u].ackedVersion, st.latest[u]) {
						synced = false
					}
				}
			}
		}
	}
	s.mu.Unlock()
	if synced {
		select {
		case s.events <- event{kind: evSynced, node: id}:
		default: // the next push trims instead
		}
	}
}

func (s *Server) response(streamKey, typeURL, version, nonce string) {
	t, ok := typeOf(typeURL)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, st := s.nodeOf(streamKey); st != nil {
		st.status[t].sentVersion, st.status[t].sentNonce = version, nonce
	}
}

// parked is the cache's NACK rule: a NACK of the version the snapshot
// still holds does not get that version sent again (go-control-plane's
// snapshot cache would answer at once, because the NACK carries the
// previous version). It returns that version, which the watch then treats
// as the proxy's, so the watch waits for the next version: a NACK never
// causes a push storm.
func (s *Server) parked(node string, t typeIndex, nonce string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.proxies[node]
	if st != nil && st.status[t].nackNonce == nonce && st.status[t].nackVersion == st.latest[t] {
		return st.latest[t]
	}
	return ""
}
