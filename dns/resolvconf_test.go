package dns

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestResolvConf(t *testing.T) {
	cases := []struct{ ns, namespace, zone, want string }{
		{"10.96.0.10", "default", "cluster.local",
			"nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"},
		{"10.0.0.1:53", "team", "",
			"nameserver 10.0.0.1\nsearch team.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"},
		{"fd00::a", "", "weft.internal.",
			"nameserver fd00::a\nsearch svc.weft.internal weft.internal\noptions ndots:5\n"},
	}
	for _, c := range cases {
		if got := ResolvConf(c.ns, c.namespace, c.zone); got != c.want {
			t.Errorf("ResolvConf(%q, %q, %q) =\n%s\nwant\n%s", c.ns, c.namespace, c.zone, got, c.want)
		}
	}
}

func TestUpstreamsFromResolvConf(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write("ok", "# comment\nsearch example.com\nnameserver 10.0.0.2\nnameserver fd00::53\noptions ndots:1\nnameserver 127.0.0.53 # trailing\n")
	got, err := UpstreamsFromResolvConf(p)
	if want := []string{"10.0.0.2:53", "[fd00::53]:53", "127.0.0.53:53"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("upstreams = %v %v, want %v", got, err, want)
	}
	if _, err := UpstreamsFromResolvConf(write("none", "search example.com\n")); !errors.Is(err, ErrNoUpstreams) {
		t.Errorf("no nameserver: err %v", err)
	}
	if _, err := UpstreamsFromResolvConf(write("bad", "nameserver dns.example.com\n")); err == nil {
		t.Errorf("a host name as nameserver: no error")
	}
	if _, err := UpstreamsFromResolvConf(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err %v", err)
	}
}
