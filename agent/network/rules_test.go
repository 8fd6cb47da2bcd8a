package network

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRedirectRulesAreIstios(t *testing.T) {
	got := redirectRules(1337, netip.MustParseAddr("10.244.1.1"))
	for _, want := range []string{
		"*nat\n",
		"-A PREROUTING -p tcp -j ISTIO_INBOUND\n",
		"-A OUTPUT -p tcp -j ISTIO_OUTPUT\n",
		"-A ISTIO_INBOUND -p tcp -m tcp --dport 15000:15090 -j RETURN\n",
		"-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006\n",
		"-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN\n",
		"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN\n",
		"-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN\n",
		"-A ISTIO_OUTPUT -d 10.244.1.1/32 -p tcp -m tcp --dport 53 -j RETURN\n",
		"-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001\n",
		"COMMIT\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
	// The catch-all comes last: every exception must precede it.
	if i, j := strings.Index(got, "-A ISTIO_OUTPUT -j ISTIO_REDIRECT"), strings.LastIndex(got, "-j RETURN"); i < j {
		t.Errorf("an exception follows the redirect:\n%s", got)
	}
}

func TestHostRulesAreTheBridges(t *testing.T) {
	chains, rules, jumps := hostRules("weft7", netip.MustParsePrefix("10.244.7.0/24"), netip.MustParsePrefix("10.244.0.0/16"))
	for _, c := range chains {
		if c.chain != "WEFT-weft7" {
			t.Errorf("chain %q", c.chain)
		}
	}
	var all []string
	for _, r := range append(rules, jumps...) {
		all = append(all, r.table+" "+r.chain+" "+strings.Join(r.args, " "))
	}
	s := strings.Join(all, "\n")
	for _, want := range []string{
		"filter WEFT-weft7 -i weft7 -j ACCEPT",
		"filter WEFT-weft7 -o weft7 -j ACCEPT",
		"nat WEFT-weft7 -d 10.244.0.0/16 -j RETURN",
		"nat WEFT-weft7 -j MASQUERADE",
		"nat POSTROUTING -s 10.244.7.0/24 -m comment --comment weft bridge weft7 -j WEFT-weft7",
		"filter FORWARD -m comment --comment weft bridge weft7 -j WEFT-weft7",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("host rules lack %q:\n%s", want, s)
		}
	}
}

func TestNewNetnsChecksItsConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg NetnsConfig
		ok  bool
	}{
		{NetnsConfig{Bridge: "weft0", PodCIDR: "10.244.1.0/24"}, true},
		{NetnsConfig{Bridge: "weft0", PodCIDR: "10.244.1.0/24", ClusterCIDR: "10.0.0.0/8"}, true},
		{NetnsConfig{Bridge: "weft-0", PodCIDR: "10.244.1.0/24"}, false},
		{NetnsConfig{Bridge: "weftbridgeistoolong", PodCIDR: "10.244.1.0/24"}, false},
		{NetnsConfig{Bridge: "weft0", PodCIDR: "127.20.0.0/16"}, false},
		{NetnsConfig{Bridge: "weft0", PodCIDR: "10.244.1.0/30"}, false},
		{NetnsConfig{Bridge: "weft0", PodCIDR: "10.244.1.0/24", ClusterCIDR: "10.245.0.0/16"}, false},
	} {
		n, err := NewNetns(tc.cfg)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
		if err == nil && tc.cfg.ClusterCIDR == "" && n.Config().ClusterCIDR != "10.244.0.0/16" {
			t.Errorf("default cluster CIDR %s", n.Config().ClusterCIDR)
		}
	}
}

func TestNetnsPoolSkipsTheBridge(t *testing.T) {
	n, err := NewNetns(NetnsConfig{Bridge: "weft0", PodCIDR: "10.244.1.0/29"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, uid := range []string{"a", "b", "c", "d", "e"} {
		a, ok := n.pool.get(uid, netip.Addr{})
		if !ok {
			t.Fatalf("pool exhausted at %s", uid)
		}
		got = append(got, a.String())
	}
	if strings.Join(got, " ") != "10.244.1.2 10.244.1.3 10.244.1.4 10.244.1.5 10.244.1.6" {
		t.Fatalf("addresses %v", got)
	}
	if _, ok := n.pool.get("f", netip.Addr{}); ok {
		t.Fatal("the broadcast address was handed out")
	}
}
