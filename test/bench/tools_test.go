package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	out := `Running 10s test @ http://127.0.0.1:8080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.20ms  30.00ms   80.00%
    Req/Sec    15.20k     1.10k   18.00k    70.00%
  302512 requests in 10.01s, 38.66MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 3, write 0, timeout 1
Requests/sec:  30221.18
Transfer/sec:      3.86MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{requests: 302512, seconds: 10.01, rate: 30221.18, non2xx: 12, errors: 4}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused"); err == nil {
		t.Error("parseWrk accepted an error message")
	}
	r, err = parseWrk("  1500 requests in 500.00ms, 1MB read\nRequests/sec:   3000.00\n")
	if err != nil || r.seconds != 0.5 || r.errors != 0 {
		t.Errorf("parseWrk(ms) = %+v, %v", r, err)
	}
}

func TestWrkArgs(t *testing.T) {
	got := wrkArgs(64, 10*time.Second, "bench-direct.bench", "http://127.0.0.1:1/")
	want := []string{"-t2", "-c64", "-d10s", "-H", "Host: bench-direct.bench", "http://127.0.0.1:1/"}
	if !slices.Equal(got, want) {
		t.Errorf("wrkArgs = %q, want %q", got, want)
	}
}

func TestProcessTree(t *testing.T) {
	children := map[int][]int{1: {10, 11}, 10: {100}, 11: {}, 100: {1000}, 7: {70}}
	got := descendants(1, children)
	if want := []int{1, 10, 11, 100, 1000}; !slices.Equal(got, want) {
		t.Errorf("descendants = %v, want %v", got, want)
	}
	if ppid, ok := parsePPID([]byte("4242 (nginx: worker) S 4241 4241 4241 0 -1 ...")); !ok || ppid != 4241 {
		t.Errorf("parsePPID = %d, %v, want 4241", ppid, ok)
	}
	if _, ok := parsePPID([]byte("garbage")); ok {
		t.Error("parsePPID accepted garbage")
	}
}

func TestConfigs(t *testing.T) {
	n := nginxConf("/tmp/x", "127.0.0.1:81", "127.0.0.1:80")
	for _, want := range []string{"listen 127.0.0.1:81;", "server 127.0.0.1:80;", "keepalive 256;", "access_log off;", `proxy_set_header Connection "";`, "daemon off;"} {
		if !strings.Contains(n, want) {
			t.Errorf("nginx config lacks %q:\n%s", want, n)
		}
	}
	h := haproxyConf("127.0.0.1:81", "127.0.0.1:80")
	for _, want := range []string{"bind 127.0.0.1:81", "server backend 127.0.0.1:80", "mode http"} {
		if !strings.Contains(h, want) {
			t.Errorf("haproxy config lacks %q:\n%s", want, h)
		}
	}
	c := corefile(5353, "/z/cluster.local.zone", "127.0.0.1:53")
	for _, want := range []string{"cluster.local:5353 {", "file /z/cluster.local.zone", ".:5353 {", "forward . 127.0.0.1:53", "cache"} {
		if !strings.Contains(c, want) {
			t.Errorf("Corefile lacks %q:\n%s", want, c)
		}
	}
}
