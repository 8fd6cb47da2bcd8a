package dns

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// packWriter packs what is written, as the real server does, and keeps
// nothing.
type packWriter struct {
	recorder
	buf []byte
}

func (w *packWriter) WriteMsg(m *dns.Msg) error {
	b, err := m.PackBuffer(w.buf)
	w.buf = b[:0]
	return err
}

// benchQueries runs query in parallel and reports queries/s and the p99
// latency of one query.
func benchQueries(b *testing.B, query func(w dns.ResponseWriter)) {
	var (
		mu      sync.Mutex
		samples []time.Duration
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		w := &packWriter{recorder: *newRecorder(), buf: make([]byte, 0, 4096)}
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t0 := time.Now()
			query(w)
			local = append(local, time.Since(t0))
		}
		mu.Lock()
		samples = append(samples, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatency(b, samples, elapsed)
}

func reportLatency(b *testing.B, samples []time.Duration, elapsed time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	b.ReportMetric(float64(len(samples))/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkClusterName: a ClusterIP service's A record, in-process.
func BenchmarkClusterName(b *testing.B) {
	s := fuzzServer(b)
	r := new(dns.Msg).SetQuestion("flaskapp.default.svc.cluster.local.", dns.TypeA)
	benchQueries(b, func(w dns.ResponseWriter) { s.ServeDNS(w, r) })
}

// BenchmarkCachedExternalName: a forwarded name answered from the cache,
// in-process.
func BenchmarkCachedExternalName(b *testing.B) {
	s := fuzzServer(b)
	r := new(dns.Msg).SetQuestion("example.com.", dns.TypeA) // even length: the fake upstream answers A
	s.ServeDNS(newRecorder(), r)
	benchQueries(b, func(w dns.ResponseWriter) { s.ServeDNS(w, r) })
	if st := s.Stats(); st.CacheMisses != 1 {
		b.Fatalf("stats %+v: not served from the cache", st)
	}
}

// BenchmarkUDP: both kinds of names over UDP on loopback, one connection
// per client goroutine, what a pod would see.
func BenchmarkUDP(b *testing.B) {
	up := startFakeUpstream(b)
	s := startServer(b, up.addr)
	for _, name := range []string{"flaskapp.default.svc.cluster.local.", "example.com."} {
		b.Run(name, func(b *testing.B) {
			q := new(dns.Msg).SetQuestion(name, dns.TypeA)
			var (
				mu      sync.Mutex
				samples []time.Duration
			)
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				co, err := dns.Dial("udp", s.Addr())
				if err != nil {
					b.Error(err)
					return
				}
				defer co.Close()
				local := make([]time.Duration, 0, 1024)
				for pb.Next() {
					t0 := time.Now()
					_ = co.SetDeadline(t0.Add(2 * time.Second))
					if err := co.WriteMsg(q); err != nil {
						b.Error(err)
						return
					}
					if _, err := co.ReadMsg(); err != nil {
						b.Error(err)
						return
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				samples = append(samples, local...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			b.StopTimer()
			reportLatency(b, samples, elapsed)
		})
	}
}

// BenchmarkLookup: the pure index lookup alone.
func BenchmarkLookup(b *testing.B) {
	ix := newTestCluster().index("")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ix.Lookup("flaskapp.default.svc.cluster.local.", dns.TypeA, DefaultTTL); !ok {
			b.Fatal("not answered")
		}
	}
}

// largeCluster has n ClusterIP services of two named ports, each with
// three ready pods: what a big cluster hands BuildIndex.
func largeCluster(n int) ([]*corev1.Service, []*corev1.Endpoints, []*corev1.Pod) {
	services := make([]*corev1.Service, 0, n)
	eps := make([]*corev1.Endpoints, 0, n)
	pods := make([]*corev1.Pod, 0, 3*n)
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i%50)
		name := fmt.Sprintf("svc-%d", i)
		services = append(services, service(ns, name, fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
			port("http", 80, corev1.ProtocolTCP), port("grpc", 9090, corev1.ProtocolTCP)))
		var addrs []corev1.EndpointAddress
		for j := range 3 {
			ip := fmt.Sprintf("10.%d.%d.%d", 100+j, i/250, i%250+1)
			podName := fmt.Sprintf("%s-%d", name, j)
			addrs = append(addrs, addrPod(ip, podName))
			pods = append(pods, pod(ns, podName, ip))
		}
		eps = append(eps, endpoints(ns, name, addrs, nil, epPort("http", 8080), epPort("grpc", 9090)))
	}
	return services, eps, pods
}

// BenchmarkIndex10kServices builds the index of 10,000 services (30,000
// pods) and reports the memory it holds once built.
func BenchmarkIndex10kServices(b *testing.B) {
	services, eps, pods := largeCluster(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if ix := BuildIndex("", services, eps, pods); ix.Stats().Services != 10_000 {
			b.Fatalf("stats %+v", ix.Stats())
		}
	}
	b.StopTimer()
	held := heapHeldBy(func() any { return BuildIndex("", services, eps, pods) })
	b.ReportMetric(float64(held)/(1<<20), "index-MiB")
	b.ReportMetric(float64(held)/10_000, "bytes/service")
	runtime.KeepAlive(services) // the inputs stay live, as in weftd's informers
	runtime.KeepAlive(eps)
	runtime.KeepAlive(pods)
}

// heapHeldBy returns the live heap that what build returns keeps.
func heapHeldBy(build func() any) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := build()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}
