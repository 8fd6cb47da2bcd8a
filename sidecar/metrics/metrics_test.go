package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

func TestRequestLabels(t *testing.T) {
	m := New(Workload{Name: "sleep", Namespace: "default", App: "sleep", Version: "v1", Principal: "unknown", Cluster: "Kubernetes"})
	d := m.Dest("outbound|80|v2|flaskapp.default.svc.cluster.local", "flaskapp-v2", "default", "flaskapp", "v2")
	if m.Dest("outbound|80|v2|flaskapp.default.svc.cluster.local", "flaskapp-v2", "default", "flaskapp", "v2") != d {
		t.Fatal("Dest is not cached")
	}
	m.Request(Source, d, "http", 200, "", "-", 3.5, 10, 20)
	m.Request(Source, d, "http", 200, "", "-", 1, 10, 20)
	m.Request(Source, d, "http", 503, "", "UO", 1, 0, 0)
	out, _ := m.Registry.Gather()
	if n := len(family(out, "istio_requests_total").GetMetric()); n != 2 {
		t.Fatalf("%d series, want 2", n)
	}
	// Compare label pairs, not mf.String(): protobuf's text form varies its
	// whitespace on purpose from one run to the next.
	seen := map[string]bool{}
	for _, mf := range out {
		for _, metric := range mf.GetMetric() {
			for _, lp := range metric.GetLabel() {
				seen[lp.GetName()+"="+lp.GetValue()] = true
			}
		}
	}
	for _, want := range []string{"destination_service=flaskapp.default.svc.cluster.local", "destination_service_name=flaskapp",
		"destination_version=v2", "response_flags=UO", "source_workload=sleep", "reporter=source"} {
		if !seen[want] {
			t.Errorf("missing label %s", want)
		}
	}
	m.TCPOpen(Source, d)
	m.TCPClose(Source, d, "", 5, 7)
	out, _ = m.Registry.Gather()
	if v := family(out, "istio_tcp_sent_bytes_total").GetMetric()[0].GetCounter().GetValue(); v != 5 {
		t.Fatalf("tcp sent bytes %v", v)
	}
}

func BenchmarkRequest(b *testing.B) {
	m := New(Workload{Name: "sleep"})
	d := m.Dest("outbound|80|v1|flaskapp.default.svc.cluster.local", "", "", "", "")
	b.ReportAllocs()
	for b.Loop() {
		m.Request(Source, d, "http", 200, "", "-", 1.2, 100, 200)
	}
}

func family(fs []*dto.MetricFamily, name string) *dto.MetricFamily {
	for _, f := range fs {
		if f.GetName() == name {
			return f
		}
	}
	return nil
}
