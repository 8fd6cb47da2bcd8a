package dataplane

import (
	"net"
	"net/netip"
	"testing"

	"github.com/weft-mesh/weft/sidecar/xdsclient"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

func TestSelectChain(t *testing.T) {
	httpChain := &xdsresource.FilterChain{Name: "http", Match: xdsresource.FilterChainMatch{DestinationPort: 8080, ApplicationProtocols: []string{"http/1.1", "h2c"}}, HTTP: &xdsresource.HTTPConnectionManager{}}
	tcpChain := &xdsresource.FilterChain{Name: "tcp", Match: xdsresource.FilterChainMatch{DestinationPort: 8080}, TCP: &xdsresource.TCPProxy{}}
	podChain := &xdsresource.FilterChain{Name: "pod", Match: xdsresource.FilterChainMatch{DestinationPort: 9090, PrefixRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, TCP: &xdsresource.TCPProxy{}}
	podChain32 := &xdsresource.FilterChain{Name: "pod32", Match: xdsresource.FilterChainMatch{DestinationPort: 9090, PrefixRanges: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32")}}, TCP: &xdsresource.TCPProxy{}}
	def := &xdsresource.FilterChain{Name: "passthrough", TCP: &xdsresource.TCPProxy{}}
	l := &xdsresource.Listener{Name: "virtualInbound", FilterChains: []*xdsresource.FilterChain{tcpChain, httpChain, podChain, podChain32}, DefaultFilterChain: def}
	tests := []struct {
		ip        string
		port      uint32
		transport string
		app       string
		want      string
	}{
		{"10.0.0.1", 8080, "raw_buffer", "http/1.1", "http"},
		{"10.0.0.1", 8080, "raw_buffer", "h2c", "http"},
		{"10.0.0.1", 8080, "raw_buffer", "", "tcp"},
		{"10.0.0.1", 9090, "raw_buffer", "", "pod"},
		{"10.0.0.5", 9090, "raw_buffer", "", "pod32"},
		{"192.168.0.1", 9090, "raw_buffer", "", "passthrough"},
		{"10.0.0.1", 1234, "raw_buffer", "", "passthrough"},
	}
	for _, tt := range tests {
		fc, err := SelectChain(l, net.ParseIP(tt.ip), tt.port, tt.transport, tt.app)
		if err != nil || fc.Name != tt.want {
			t.Errorf("%s:%d %s/%s: got %v %v, want %s", tt.ip, tt.port, tt.transport, tt.app, fc, err, tt.want)
		}
	}
	l.DefaultFilterChain = nil
	if _, err := SelectChain(l, net.ParseIP("1.1.1.1"), 1, "raw_buffer", ""); err == nil {
		t.Fatal("no chain and no default should fail")
	}
	if !NeedsSniffing(l) {
		t.Fatal("application_protocols need sniffing")
	}
}

func TestDirectionOf(t *testing.T) {
	if DirectionOf(&xdsresource.Listener{Name: "virtualInbound"}) != Inbound ||
		DirectionOf(&xdsresource.Listener{Name: "0.0.0.0_80"}) != Outbound ||
		DirectionOf(&xdsresource.Listener{Name: "x", Direction: xdsresource.DirectionInbound}) != Inbound {
		t.Fatal("direction")
	}
}

// TestTableOfReplacedListener: a kept-alive connection accepted by a
// listener that a later snapshot replaced still finds its inline routes
// (it used to get 404 NR).
func TestTableOfReplacedListener(t *testing.T) {
	listener := func(rc string) (*xdsresource.Listener, *xdsresource.HTTPConnectionManager) {
		h := &xdsresource.HTTPConnectionManager{RouteConfig: &xdsresource.RouteConfiguration{Name: rc}}
		return &xdsresource.Listener{Name: "virtualInbound", FilterChains: []*xdsresource.FilterChain{{Name: "http", HTTP: h}}}, h
	}
	l1, h1 := listener("inbound|80||")
	s1, _ := Build(&xdsclient.State{Listeners: map[string]*xdsresource.Listener{l1.Name: l1}}, nil, nil)
	if tb := s1.Table(h1); tb == nil || tb.Config != h1.RouteConfig {
		t.Fatalf("current listener's table: %+v", tb)
	}
	l2, h2 := listener("inbound|80|v2|")
	s2, _ := Build(&xdsclient.State{Listeners: map[string]*xdsresource.Listener{l2.Name: l2}}, s1, nil)
	if tb := s2.Table(h2); tb == nil || tb.Config != h2.RouteConfig {
		t.Fatalf("new listener's table: %+v", tb)
	}
	old := s2.Table(h1)
	if old == nil || old.Config != h1.RouteConfig {
		t.Fatalf("the replaced listener's connection manager lost its routes: %+v", old)
	}
	if s2.Table(h1) != old {
		t.Fatal("the table of a replaced listener is rebuilt on every request")
	}
}
