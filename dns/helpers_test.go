package dns

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Fixture builders keep the tests short.

func service(ns, name, clusterIP string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: clusterIP, Ports: ports},
	}
	if clusterIP != "" && clusterIP != corev1.ClusterIPNone {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	return s
}

func externalName(ns, name, target string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target, Ports: ports},
	}
}

func port(name string, p int32, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: proto, TargetPort: intstr.FromInt32(p)}
}

func epPort(name string, p int32) corev1.EndpointPort {
	return corev1.EndpointPort{Name: name, Port: p, Protocol: corev1.ProtocolTCP}
}

func addr(ip string) corev1.EndpointAddress { return corev1.EndpointAddress{IP: ip} }

func addrHost(ip, host string) corev1.EndpointAddress {
	return corev1.EndpointAddress{IP: ip, Hostname: host}
}

func addrPod(ip, pod string) corev1.EndpointAddress {
	return corev1.EndpointAddress{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod}}
}

func endpoints(ns, name string, ready, notReady []corev1.EndpointAddress, ports ...corev1.EndpointPort) *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Subsets:    []corev1.EndpointSubset{{Addresses: ready, NotReadyAddresses: notReady, Ports: ports}},
	}
}

func pod(ns, name, ip string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}},
	}
}

func podHost(ns, name, ip, hostname, subdomain string) *corev1.Pod {
	p := pod(ns, name, ip)
	p.Spec.Hostname, p.Spec.Subdomain = hostname, subdomain
	return p
}

// testCluster is the cluster most tests answer from.
type testCluster struct {
	services  []*corev1.Service
	endpoints []*corev1.Endpoints
	pods      []*corev1.Pod
}

func newTestCluster() testCluster {
	pub := service("default", "pub", corev1.ClusterIPNone, port("http", 80, corev1.ProtocolTCP))
	pub.Spec.PublishNotReadyAddresses = true
	dual := service("default", "dual", "10.96.0.20", port("http", 80, corev1.ProtocolTCP))
	dual.Spec.ClusterIPs = []string{"10.96.0.20", "fd00::20"}
	return testCluster{
		services: []*corev1.Service{
			service("default", "flaskapp", "10.96.0.10", port("http", 80, corev1.ProtocolTCP)),
			service("default", "web", corev1.ClusterIPNone, port("http", 80, corev1.ProtocolTCP)),
			pub,
			dual,
			externalName("default", "db", "db.example.com", port("pg", 5432, corev1.ProtocolTCP)),
			externalName("default", "alias", "flaskapp.default.svc.cluster.local"),
			service("team", "api", "10.96.1.1", port("", 8080, corev1.ProtocolTCP), port("dns", 53, corev1.ProtocolUDP)),
			externalName("team", "broken", "not a name!"),
		},
		endpoints: []*corev1.Endpoints{
			endpoints("default", "flaskapp",
				[]corev1.EndpointAddress{addrPod("10.0.0.1", "flask-a"), addrPod("10.0.0.2", "flask-b")},
				[]corev1.EndpointAddress{addr("10.0.0.3")}, epPort("http", 5000)),
			endpoints("default", "web",
				[]corev1.EndpointAddress{addrPod("10.0.1.1", "web-0"), addrHost("10.0.1.2", "web-1"), addr("10.0.1.3"), addr("10.0.1.5")},
				[]corev1.EndpointAddress{addr("10.0.1.4")}, epPort("http", 8080)),
			endpoints("default", "pub",
				[]corev1.EndpointAddress{addr("10.0.2.1")},
				[]corev1.EndpointAddress{addr("10.0.2.2")}, epPort("http", 80)),
		},
		pods: []*corev1.Pod{
			pod("default", "flask-a", "10.0.0.1"),
			pod("default", "flask-b", "10.0.0.2"),
			podHost("default", "web-0", "10.0.1.1", "web-0", "web"),
			podHost("default", "web-5", "10.0.1.5", "web-5", "web"), // found by IP: no targetRef
			pod("default", "lonely", "10.0.9.9"),
			pod("default", "v6", "fd00::99"),
		},
	}
}

func (c testCluster) index(zone string) *Index {
	return BuildIndex(zone, c.services, c.endpoints, c.pods)
}

// rdata returns "TYPE rdata" of each record, e.g. "A 10.0.0.1".
func rdata(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		s := strings.TrimPrefix(rr.String(), rr.Header().String())
		out = append(out, dns.TypeToString[rr.Header().Rrtype]+" "+strings.ReplaceAll(s, "\t", " "))
	}
	return out
}

// recorder is a dns.ResponseWriter keeping what is written.
type recorder struct {
	remote net.Addr
	mu     sync.Mutex
	msgs   []*dns.Msg
}

func newRecorder() *recorder {
	return &recorder{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
}

func tcpRecorder() *recorder {
	return &recorder{remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
}

func (r *recorder) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (r *recorder) RemoteAddr() net.Addr { return r.remote }
func (r *recorder) WriteMsg(m *dns.Msg) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *recorder) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	return len(b), r.WriteMsg(m)
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

func (r *recorder) last() *dns.Msg {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.msgs) == 0 {
		return nil
	}
	return r.msgs[len(r.msgs)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// fakeUpstream is a resolver on 127.0.0.1:0 (UDP and TCP) answering a few
// names and counting the questions it gets.
type fakeUpstream struct {
	addr  string
	mu    sync.Mutex
	asked map[string]int // "name TYPE" → count
	total atomic.Int64
	udp   *dns.Server
	tcp   *dns.Server
}

func startFakeUpstream(t testing.TB) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{asked: map[string]int{}}
	pc, ln, err := listenBoth("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = pc.LocalAddr().String()
	started := make(chan struct{}, 2)
	f.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve), NotifyStartedFunc: func() { started <- struct{}{} }}
	f.tcp = &dns.Server{Listener: ln, Handler: dns.HandlerFunc(f.serve), NotifyStartedFunc: func() { started <- struct{}{} }}
	var wg sync.WaitGroup
	for _, s := range []*dns.Server{f.udp, f.tcp} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.ActivateAndServe()
		}()
	}
	<-started
	<-started
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.udp.ShutdownContext(ctx)
		_ = f.tcp.ShutdownContext(ctx)
		wg.Wait()
	})
	return f
}

func (f *fakeUpstream) count(name string, qtype uint16) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.asked[name+" "+dns.TypeToString[qtype]]
}

// The upstream's zone:
//
//	example.com        A 93.184.216.34, TTL 60
//	db.example.com     A 192.0.2.10, TTL 60
//	big.example.com    TXT: 40 strings, too big for 512 octets (TC over UDP)
//	nx.example.com     NXDOMAIN, SOA TTL 30 MINIMUM 10
//	slow.example.com   never answered
//	*                  NXDOMAIN, SOA TTL 30 MINIMUM 10
func (f *fakeUpstream) serve(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	f.mu.Lock()
	f.asked[name+" "+dns.TypeToString[q.Qtype]]++
	f.mu.Unlock()
	f.total.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	rr := func(s string) dns.RR {
		x, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return x
	}
	switch {
	case name == "slow.example.com.":
		return
	case name == "example.com." && q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{rr("example.com. 60 IN A 93.184.216.34")}
	case name == "db.example.com." && q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{rr("db.example.com. 60 IN A 192.0.2.10")}
	case name == "big.example.com." && q.Qtype == dns.TypeTXT:
		for i := range 40 {
			m.Answer = append(m.Answer, rr("big.example.com. 60 IN TXT \"record-"+strings.Repeat("x", 20)+string(rune('a'+i%26))+"\""))
		}
	case name == "example.com." || name == "db.example.com." || name == "big.example.com.":
		m.Ns = []dns.RR{rr("example.com. 30 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 10")}
	default:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{rr("example.com. 30 IN SOA ns.example.com. hostmaster.example.com. 1 7200 1800 86400 10")}
	}
	size := dns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		size = int(opt.UDPSize())
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(size)
	} else {
		m.Truncate(dns.MaxMsgSize)
	}
	_ = w.WriteMsg(m)
}

// startServer starts a Server on 127.0.0.1:0 answering from the test
// cluster and forwarding to upstream.
func startServer(t testing.TB, upstream string, mutate ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", Upstreams: []string{upstream}, UpstreamTimeout: 300 * time.Millisecond, QueryTimeout: 2 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIndex(newTestCluster().index("")); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// query asks the server over network ("udp" or "tcp").
func query(t testing.TB, network, addr, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}
