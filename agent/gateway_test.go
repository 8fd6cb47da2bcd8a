package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent/lifecycle"
	"github.com/weft-mesh/weft/agent/runtime"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

func TestDecideGateway(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	want := []string{"/bin/weft-proxy", "--xds-addr=a"}
	other := []string{"/bin/weft-proxy", "--xds-addr=b"}
	running := func(args []string, attempt int) *runtime.Observed {
		return &runtime.Observed{Attempt: attempt, Spec: runtime.Spec{Args: args}, State: &runtime.State{PID: 1}}
	}
	ended := func(args []string, attempt int, ago time.Duration) *runtime.Observed {
		o := running(args, attempt)
		o.Exit = &runtime.Exit{ExitCode: 1, FinishedAt: now.Add(-ago)}
		return o
	}
	pol := gatewayBackoff
	recent := lifecycle.Backoff{Delay: 4 * time.Second, LastUpdate: now.Add(-time.Second)}
	tests := []struct {
		name    string
		o       *runtime.Observed
		b       lifecycle.Backoff
		want    gatewayPlan
		wantOff lifecycle.Backoff
	}{
		{name: "never ran", o: nil, want: gatewayPlan{Start: true}},
		{name: "runs as wanted", o: running(want, 3), b: recent, want: gatewayPlan{Backoff: recent}},
		{name: "new command line", o: running(other, 3), b: recent, want: gatewayPlan{Stop: true, Start: true, Attempt: 4}},
		{name: "first end restarts at once", o: ended(want, 0, 0),
			want: gatewayPlan{Start: true, Attempt: 1, Backoff: lifecycle.Backoff{Delay: time.Second, LastUpdate: now}}},
		{name: "later end waits its delay", o: ended(want, 2, time.Second), b: recent,
			want: gatewayPlan{Backoff: recent, Wake: now.Add(3 * time.Second)}},
		{name: "delay over: restart and double", o: ended(want, 2, 5*time.Second), b: recent,
			want: gatewayPlan{Start: true, Attempt: 3, Backoff: lifecycle.Backoff{Delay: 8 * time.Second, LastUpdate: now}}},
		{name: "delay capped", o: ended(want, 9, time.Minute), b: lifecycle.Backoff{Delay: 30 * time.Second, LastUpdate: now.Add(-time.Minute)},
			want: gatewayPlan{Start: true, Attempt: 10, Backoff: lifecycle.Backoff{Delay: 30 * time.Second, LastUpdate: now}}},
		{name: "old back-off forgotten", o: ended(want, 2, 0), b: lifecycle.Backoff{Delay: 30 * time.Second, LastUpdate: now.Add(-time.Hour)},
			want: gatewayPlan{Start: true, Attempt: 3, Backoff: lifecycle.Backoff{Delay: time.Second, LastUpdate: now}}},
		{name: "ended with an old command line: restart at once", o: ended(other, 2, 0), b: recent,
			want: gatewayPlan{Start: true, Attempt: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideGateway(want, tt.o, tt.b, pol, now)
			if got != tt.want {
				t.Errorf("decideGateway:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestGatewayNodeID(t *testing.T) {
	if got, want := GatewayNodeID("node-1", "127.0.0.9"), "router~127.0.0.9~node-1.weft-system~weft-system.svc.cluster.local"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := GatewayNodeID("ip-10-0-0-1.ec2.internal", "10.0.0.1"); !strings.Contains(got, "~ip-10-0-0-1-ec2-internal.weft-system~") {
		t.Errorf("dots in the node name: %q", got)
	}
	args := gatewayArgs("n", "127.0.0.9", "127.0.0.1:15010")
	for _, a := range []string{"--mode=gateway", "--admin-addr=127.0.0.9:0", "--stats-addr=127.0.0.9:0", "--ready-addr=127.0.0.9:0", "--pod-ip=127.0.0.9"} {
		if !slices.Contains(args, a) {
			t.Errorf("gateway args %q lack %q", args, a)
		}
	}
}

func TestLoadBalancerIngress(t *testing.T) {
	lb := func(typ corev1.ServiceType, ips ...string) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ}}
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		return s
	}
	ips := func(in []corev1.LoadBalancerIngress) []string {
		var out []string
		for _, e := range in {
			out = append(out, e.IP)
		}
		return out
	}
	tests := []struct {
		name    string
		svc     *corev1.Service
		want    []string
		changed bool
	}{
		{"LoadBalancer gets the node IP", lb(corev1.ServiceTypeLoadBalancer), []string{"127.0.0.5"}, true},
		{"other nodes' IPs kept, sorted", lb(corev1.ServiceTypeLoadBalancer, "127.0.0.9", "127.0.0.2"), []string{"127.0.0.2", "127.0.0.5", "127.0.0.9"}, true},
		{"already there", lb(corev1.ServiceTypeLoadBalancer, "127.0.0.5"), []string{"127.0.0.5"}, false},
		{"no longer a LoadBalancer", lb(corev1.ServiceTypeNodePort, "127.0.0.2", "127.0.0.5"), []string{"127.0.0.2"}, true},
		{"NodePort left alone", lb(corev1.ServiceTypeNodePort), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := loadBalancerIngress(tt.svc, "127.0.0.5")
			if changed != tt.changed || !slices.Equal(ips(got), tt.want) {
				t.Errorf("got %v (changed %t), want %v (changed %t)", ips(got), changed, tt.want, tt.changed)
			}
		})
	}
}

func TestProxyAdminOf(t *testing.T) {
	tests := []struct {
		name string
		spec runtime.Spec
		ip   string
		want proxyAdminTarget
	}{
		{"host mode: the pod IP", runtime.Spec{Args: []string{"weft-proxy", "--mode=sidecar", "--pod-ip=127.20.0.3"}, Env: []string{"WEFT_NETWORK=host"}},
			"127.20.0.3", proxyAdminTarget{Addr: "127.20.0.3:15000"}},
		{"netns mode: loopback in the pod's namespace", runtime.Spec{Args: []string{"weft-proxy", "--pod-ip", "10.244.0.4"}, Env: []string{"WEFT_NETWORK=netns"}, NetNS: "/run/netns/x"},
			"10.244.0.4", proxyAdminTarget{Addr: "127.0.0.1:15000", NetNS: "/run/netns/x"}},
		{"explicit admin address", runtime.Spec{Args: []string{"weft-proxy", "--admin-addr=127.0.0.7:1500", "--pod-ip=127.20.0.3"}, Env: []string{"WEFT_NETWORK=host"}},
			"127.20.0.3", proxyAdminTarget{Addr: "127.0.0.7:1500"}},
		{"pod IP from the record", runtime.Spec{Args: []string{"weft-proxy"}}, "127.20.0.8", proxyAdminTarget{Addr: "127.20.0.8:15000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proxyAdminOf(tt.spec, tt.ip)
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestGatewaySupervised runs the agent with a stand-in weft-proxy: it is
// started with the gateway's command line, restarted when it dies, left
// running when the agent stops, adopted by the next agent, and killed by
// Reset.
func TestGatewaySupervised(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	script := "#!/bin/sh\nexec sleep 1000\n"
	if err := os.WriteFile(filepath.Join(bin, "weft-proxy"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	srv := apiservertest.Start(t, boltstore.Options{})
	n := cidrs.Add(1)
	f := startAgent(t, srv, "node-gateway-test", func(cfg *Config) {
		cfg.NetworkMode, cfg.PodCIDR = "host", fmt.Sprintf("127.%d.0.0/16", 100+n)
		cfg.BinDirs = []string{bin}
		cfg.XDSAddr = "127.0.0.1:1"
	})
	rt, err := runtime.New(filepath.Join(f.dataDir, gatewayDir), "")
	if err != nil {
		t.Fatal(err)
	}
	current := func() runtime.Observed {
		obs, _ := rt.Observe(gatewayUID)
		return obs[gatewayContainer]
	}
	waitFor(t, "the gateway running", func() bool { return current().Running() })
	o := current()
	if !slices.Contains(o.Spec.Args, "--node-id="+GatewayNodeID(f.node, "127.0.0.2")) || o.Spec.Args[0] != filepath.Join(bin, "weft-proxy") {
		t.Fatalf("gateway command line: %q", o.Spec.Args)
	}
	_ = syscall.Kill(o.State.PID, syscall.SIGKILL)
	waitFor(t, "the gateway restarted", func() bool { c := current(); return c.Running() && c.Attempt == o.Attempt+1 })

	f.stop()
	pid := current().State.PID
	if !current().Running() || syscall.Kill(pid, 0) != nil {
		t.Fatal("the gateway should outlive the agent")
	}
	f.run() // the next agent adopts it
	time.Sleep(500 * time.Millisecond)
	if c := current(); !c.Running() || c.State.PID != pid {
		t.Fatalf("the gateway was not adopted: %+v", c)
	}
	f.stop()
	if err := Reset(f.dataDir, f.node); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the gateway killed by Reset", func() bool { return syscall.Kill(pid, 0) != nil })
}
