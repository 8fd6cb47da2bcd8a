package agent

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestResolvConfFollowsDNSPolicy(t *testing.T) {
	mk := func(policy corev1.DNSPolicy, dc *corev1.PodDNSConfig) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "shop"}, Spec: corev1.PodSpec{DNSPolicy: policy, DNSConfig: dc}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
		ok   bool
	}{
		{"cluster first", mk(corev1.DNSClusterFirst, nil),
			"nameserver 10.244.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n", true},
		{"empty policy is cluster first", mk("", nil),
			"nameserver 10.244.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n", true},
		{"dnsConfig adds and overrides", mk(corev1.DNSClusterFirst, &corev1.PodDNSConfig{
			Nameservers: []string{"1.1.1.1"}, Searches: []string{"corp.example"},
			Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: new("2")}, {Name: "edns0"}},
		}), "nameserver 10.244.1.1\nnameserver 1.1.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:2 edns0\n", true},
		{"none", mk(corev1.DNSNone, &corev1.PodDNSConfig{Nameservers: []string{"9.9.9.9"}}), "nameserver 9.9.9.9\n", true},
		{"default is the node's", mk(corev1.DNSDefault, nil), "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := resolvConf(tc.pod, "10.244.1.1", "cluster.local")
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHostsFile(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "shop"}, Spec: corev1.PodSpec{
		Hostname: "web", Subdomain: "db",
		HostAliases: []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo.local", "bar.local"}}},
	}}
	got := hostsFile(p, "10.244.1.5", "cluster.local")
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.244.1.5\tweb.db.shop.svc.cluster.local\tweb\n", "10.1.2.3\tfoo.local\tbar.local\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts lacks %q:\n%s", want, got)
		}
	}
	if got := hostsFile(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "sleep"}}, "10.244.1.6", "cluster.local"); !strings.HasSuffix(got, "\n10.244.1.6\tsleep\n") {
		t.Errorf("hosts:\n%s", got)
	}
}

func TestRunAs(t *testing.T) {
	if u := runAs(&corev1.Container{}); u != nil {
		t.Fatalf("no securityContext: %+v", u)
	}
	if u := runAs(&corev1.Container{SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(1337)), RunAsGroup: new(int64(1338))}}); u == nil || u.UID != 1337 || u.GID != 1338 {
		t.Fatalf("user and group: %+v", u)
	}
	if u := runAs(&corev1.Container{SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(1000))}}); u == nil || u.UID != 1000 || u.GID != 0 {
		t.Fatalf("user only: %+v", u)
	}
	if u := runAs(&corev1.Container{SecurityContext: &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true)}}); u != nil {
		t.Fatalf("no user: %+v", u)
	}
}
