package dns

import (
	"context"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDig queries the running server with Debian's dig (bind9-dnsutils),
// as a person would. .ci/run installs it; without it the test is skipped.
func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not found: apt-get install -y bind9-dnsutils to run this test")
	}
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	if err := s.SetIndex(bigCluster(100)); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(s.Addr())

	run := func(t *testing.T, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		args = append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)
		out, err := exec.CommandContext(ctx, dig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		slices.Sort(out)
		return out
	}

	short := []struct {
		name string
		args []string
		want []string
	}{
		{"A", []string{"flaskapp.default.svc.cluster.local", "A", "+short"}, []string{"10.96.0.10"}},
		{"A over TCP", []string{"+tcp", "flaskapp.default.svc.cluster.local", "A", "+short"}, []string{"10.96.0.10"}},
		{"SRV", []string{"_http._tcp.flaskapp.default.svc.cluster.local", "SRV", "+short"}, []string{"0 100 80 flaskapp.default.svc.cluster.local."}},
		{"PTR", []string{"-x", "10.96.0.10", "+short"}, []string{"flaskapp.default.svc.cluster.local."}},
		{"headless", []string{"web.default.svc.cluster.local", "A", "+short"}, []string{"10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.5"}},
		{"headless pod name", []string{"web-0.web.default.svc.cluster.local", "A", "+short"}, []string{"10.0.1.1"}},
		{"headless SRV", []string{"_http._tcp.pub.default.svc.cluster.local", "SRV", "+short"},
			[]string{"0 50 80 10-0-2-1.pub.default.svc.cluster.local.", "0 50 80 10-0-2-2.pub.default.svc.cluster.local."}},
		{"pod", []string{"10-0-9-9.default.pod.cluster.local", "A", "+short"}, []string{"10.0.9.9"}},
		{"external name", []string{"example.com", "A", "+short"}, []string{"93.184.216.34"}},
		{"ExternalName service", []string{"db.default.svc.cluster.local", "A", "+short"}, []string{"192.0.2.10", "db.example.com."}},
	}
	for _, c := range short {
		t.Run(c.name, func(t *testing.T) {
			if got := lines(run(t, c.args...)); !slices.Equal(got, c.want) {
				t.Errorf("dig %s = %q, want %q", strings.Join(c.args, " "), got, c.want)
			}
		})
	}

	t.Run("NXDOMAIN", func(t *testing.T) {
		out := run(t, "nope.default.svc.cluster.local", "A")
		if !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "AUTHORITY: 1") ||
			!strings.Contains(out, "cluster.local.\t\t5\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local.") {
			t.Errorf("dig output:\n%s", out)
		}
		if !strings.Contains(out, "flags: qr aa rd ra") {
			t.Errorf("flags, want qr aa rd ra:\n%s", out)
		}
	})
	t.Run("NODATA", func(t *testing.T) {
		out := run(t, "flaskapp.default.svc.cluster.local", "AAAA")
		if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "ANSWER: 0, AUTHORITY: 1") {
			t.Errorf("dig output:\n%s", out)
		}
	})
	t.Run("truncated then TCP", func(t *testing.T) {
		out := run(t, "+noedns", "big.default.svc.cluster.local", "A")
		if !strings.Contains(out, "Truncated, retrying in TCP mode") || !strings.Contains(out, "ANSWER: 100,") {
			t.Errorf("dig output:\n%s", out)
		}
	})
	t.Run("ANY", func(t *testing.T) {
		out := run(t, "flaskapp.default.svc.cluster.local", "ANY")
		if !strings.Contains(out, "HINFO\t\"RFC8482\"") {
			t.Errorf("dig output:\n%s", out)
		}
	})
}
