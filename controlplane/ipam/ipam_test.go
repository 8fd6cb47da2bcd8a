package ipam_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	"github.com/weft-mesh/weft/controlplane/ipam"
	"github.com/weft-mesh/weft/controlplane/store"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "weft.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// serve starts an API server over st with an allocator in its admission
// chain, and returns a client and the allocator.
func serve(t *testing.T, st store.Store, cfg ipam.Config) (*client.Client, *ipam.Allocator) {
	t.Helper()
	cfg.Store = st
	alloc, err := ipam.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := apiserver.New(apiserver.Config{Store: st, Admission: []apiserver.AdmissionPlugin{alloc}})
	if err := s.EnsureNamespaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c, err := client.New(ts.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	return c, alloc
}

func service(name, clusterIP string) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: clusterIP, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
}

func create(t *testing.T, c *client.Client, svc *corev1.Service) (*corev1.Service, error) {
	t.Helper()
	out, _, err := c.Create(context.Background(), svc)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Service), nil
}

func mustCreate(t *testing.T, c *client.Client, svc *corev1.Service) *corev1.Service {
	t.Helper()
	out, err := create(t, c, svc)
	if err != nil {
		t.Fatalf("create %s: %v", svc.Name, err)
	}
	return out
}

func TestClusterIPsAreUniqueAndInRange(t *testing.T) {
	st := openStore(t)
	// Two API servers, each with its own allocator, over one store: the
	// store's uniqueness keeps them apart.
	c1, _ := serve(t, st, ipam.Config{ServiceCIDR: "10.0.0.0/26"})
	c2, _ := serve(t, st, ipam.Config{ServiceCIDR: "10.0.0.0/26"})
	const n = 62 // a /26 less network and broadcast
	var wg sync.WaitGroup
	ips := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := c1
			if i%2 == 1 {
				c = c2
			}
			svc, err := create(t, c, service(fmt.Sprintf("svc-%d", i), ""))
			if err == nil {
				ips[i] = svc.Spec.ClusterIP
				if len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP || svc.Spec.IPFamilies[0] != corev1.IPv4Protocol {
					err = fmt.Errorf("clusterIPs %v families %v", svc.Spec.ClusterIPs, svc.Spec.IPFamilies)
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	prefix := netip.MustParsePrefix("10.0.0.0/26")
	seen := map[string]string{}
	for i, ip := range ips {
		if errs[i] != nil {
			t.Fatalf("svc-%d: %v", i, errs[i])
		}
		addr := netip.MustParseAddr(ip)
		if !prefix.Contains(addr) || ip == "10.0.0.0" || ip == "10.0.0.63" {
			t.Errorf("svc-%d got %s, outside the usable range", i, ip)
		}
		if other, dup := seen[ip]; dup {
			t.Errorf("svc-%d and %s both got %s", i, other, ip)
		}
		seen[ip] = fmt.Sprintf("svc-%d", i)
	}
	_, err := create(t, c1, service("one-too-many", ""))
	if err == nil || !strings.Contains(err.Error(), "range is full") {
		t.Fatalf("a full range: got %v, want range is full", err)
	}
}

func TestExplicitClusterIP(t *testing.T) {
	c, _ := serve(t, openStore(t), ipam.Config{ServiceCIDR: "10.96.0.0/12"})
	svc := mustCreate(t, c, service("dns", "10.96.0.10"))
	if svc.Spec.ClusterIP != "10.96.0.10" {
		t.Fatalf("requested 10.96.0.10, got %s", svc.Spec.ClusterIP)
	}
	for _, tc := range []struct{ name, ip, want string }{
		{"taken", "10.96.0.10", `Service "taken" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated`},
		{"outside", "10.0.0.1", "failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"},
		{"broadcast", "10.111.255.255", "is not in the valid range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := create(t, c, service(tc.name, tc.ip))
			if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want 422 with %q", err, tc.want)
			}
		})
	}
	headless := mustCreate(t, c, service("headless", corev1.ClusterIPNone))
	if headless.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("headless got %q", headless.Spec.ClusterIP)
	}
	// An update leaving the IP out keeps it (kubectl replace of the manifest).
	upd := service("dns", "")
	upd.ResourceVersion = svc.ResourceVersion
	upd.Spec.Ports[0].Port = 53
	out, _, err := c.Update(context.Background(), upd)
	if err != nil {
		t.Fatal(err)
	}
	if ip := out.(*corev1.Service).Spec.ClusterIP; ip != "10.96.0.10" {
		t.Errorf("after an update without clusterIP: %s", ip)
	}
}

func TestNodePorts(t *testing.T) {
	c, _ := serve(t, openStore(t), ipam.Config{})
	np := func(name string, port int32) *corev1.Service {
		s := service(name, "")
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = port
		return s
	}
	// Seed 31's explicit nodePort.
	a := mustCreate(t, c, np("oldboyedu-nginx-svc", 30000))
	if a.Spec.Ports[0].NodePort != 30000 {
		t.Fatalf("nodePort %d, want 30000", a.Spec.Ports[0].NodePort)
	}
	b := mustCreate(t, c, np("auto", 0))
	if p := b.Spec.Ports[0].NodePort; p < 30000 || p > 32767 || p == 30000 {
		t.Fatalf("allocated nodePort %d", p)
	}
	_, err := create(t, c, np("clash", 30000))
	if err == nil || !strings.Contains(err.Error(), "spec.ports[0].nodePort: Invalid value: 30000: provided port is already allocated") {
		t.Fatalf("a taken nodePort: %v", err)
	}
}

// TestAllocationsSurviveRestart: a new allocator over the same store (a
// weftd restart) knows what is taken.
func TestAllocationsSurviveRestart(t *testing.T) {
	st := openStore(t)
	cfg := ipam.Config{ServiceCIDR: "10.0.0.0/29"} // 6 usable
	c, _ := serve(t, st, cfg)
	seen := map[string]bool{}
	for i := range 3 {
		seen[mustCreate(t, c, service(fmt.Sprintf("before-%d", i), "")).Spec.ClusterIP] = true
	}
	c2, _ := serve(t, st, cfg) // restarted
	for ip := range seen {
		if _, err := create(t, c2, service("steal-"+strings.ReplaceAll(ip, ".", "-"), ip)); err == nil || !strings.Contains(err.Error(), "already allocated") {
			t.Fatalf("re-requesting %s after restart: %v", ip, err)
		}
	}
	for i := range 3 {
		ip := mustCreate(t, c2, service(fmt.Sprintf("after-%d", i), "")).Spec.ClusterIP
		if seen[ip] {
			t.Fatalf("%s allocated twice across a restart", ip)
		}
		seen[ip] = true
	}
	if _, err := create(t, c2, service("full", "")); err == nil {
		t.Fatal("a seventh IP from a /29")
	}
}

// TestReleaseOnDeleteAndRepair: Run frees a deleted Service's IP and node
// port; the repair pass frees an allocation whose create never made it
// into the store.
func TestReleaseOnDeleteAndRepair(t *testing.T) {
	st := openStore(t)
	c, alloc := serve(t, st, ipam.Config{ServiceCIDR: "10.0.0.0/29", Grace: 100 * time.Millisecond, RepairInterval: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- alloc.Run(ctx, c) }()
	defer func() { cancel(); <-done }()

	s := service("gone", "10.0.0.3")
	s.Spec.Type = corev1.ServiceTypeNodePort
	s.Spec.Ports[0].NodePort = 30100
	mustCreate(t, c, s)
	time.Sleep(150 * time.Millisecond) // past the grace period: the deletion is not an in-flight re-create
	if _, err := c.Delete(ctx, api.LookupName("services"), "default", "gone"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() error {
		n := service("next", "10.0.0.3")
		n.Spec.Type = corev1.ServiceTypeNodePort
		n.Spec.Ports[0].NodePort = 30100
		_, err := create(t, c, n)
		return err
	})

	// An admission whose object never reaches the store.
	orphan := service("never-stored", "10.0.0.5")
	if _, err := alloc.Admit(ctx, orphan, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, ipam.IPPrefix+"10.0.0.5"); err != nil {
		t.Fatalf("no record after admission: %v", err)
	}
	eventually(t, func() error {
		_, err := create(t, c, service("reuses-it", "10.0.0.5"))
		return err
	})
}

func eventually(t *testing.T, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
