package main

import "testing"

func TestParse(t *testing.T) {
	cfg, err := parse([]string{"--xds-addr", "127.0.0.1:15010", "--pod-ip", "127.0.0.7", "--pod-name", "sleep-7d9f-abcde",
		"--pod-namespace", "default", "--labels", "app=sleep,version=v1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NodeID != "sidecar~127.0.0.7~sleep-7d9f-abcde.default~default.svc.cluster.local" {
		t.Errorf("node id = %q", cfg.NodeID)
	}
	if cfg.OutboundAddr != "127.0.0.7:15001" || cfg.BindIP != "127.0.0.7" || cfg.Labels["version"] != "v1" || cfg.XDSDelta {
		t.Errorf("cfg = %+v", cfg)
	}
	if cfg, err := parse([]string{"--xds-addr", "h:1", "--node-id", "sidecar~1.2.3.4~a.b~b.svc.cluster.local", "--xds-delta"}); err != nil || !cfg.XDSDelta {
		t.Errorf("--xds-delta: %+v %v", cfg, err)
	}
	for _, bad := range [][]string{
		{"--node-id", "x"},
		{"--xds-addr", "nohostport", "--node-id", "sidecar~1.2.3.4~a.b~b.svc.cluster.local"},
		{"--xds-addr", "h:1", "--node-id", "sidecar~1.2.3.4~a.b~b.svc.cluster.local", "--mode", "ingress"},
		{"--xds-addr", "h:1", "--node-id", "sidecar~1.2.3.4~a.b~b.svc.cluster.local", "--labels", "novalue"},
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

// TestLabelsFromInjector: the injector's ISTIO_METAJSON_LABELS gives the
// proxy its workload labels when --labels is not set.
func TestLabelsFromInjector(t *testing.T) {
	args := []string{"--xds-addr", "h:1", "--node-id", "sidecar~1.2.3.4~a.b~b.svc.cluster.local"}
	t.Setenv("ISTIO_METAJSON_LABELS", `{"app":"sleep","version":"v1"}`)
	if cfg, err := parse(args); err != nil || cfg.Labels["app"] != "sleep" || cfg.Labels["version"] != "v1" {
		t.Fatalf("labels %v, %v", cfg.Labels, err)
	}
	if cfg, err := parse(append(args, "--labels", "app=other")); err != nil || cfg.Labels["app"] != "other" {
		t.Fatalf("--labels should win: %v, %v", cfg.Labels, err)
	}
	t.Setenv("ISTIO_METAJSON_LABELS", `["app"]`)
	if _, err := parse(args); err == nil {
		t.Fatal("a malformed ISTIO_METAJSON_LABELS was accepted")
	}
}
