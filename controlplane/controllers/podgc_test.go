package controllers

import (
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestDecidePodGC(t *testing.T) {
	q := 40 * time.Second
	exists := func(n string) bool { return n == "alive" }
	pods := []*podBuilder{
		makePod("on-alive").node("alive"),
		makePod("unscheduled").node(""),
		makePod("orphan-1").node("gone"),
		makePod("orphan-2").node("gone"),
		makePod("on-new-gone").node("just-gone"),
	}
	var in []*corev1.Pod
	for _, p := range pods {
		in = append(in, p.obj())
	}
	names := func(d podGCDecision) []string {
		var out []string
		for _, p := range d.Orphans {
			out = append(out, p.Name)
		}
		return out
	}

	// First seen missing: nothing yet, the quarantine starts.
	d := decidePodGC(in, exists, nil, t0, q)
	if len(d.Orphans) != 0 || !d.Missing["gone"].Equal(t0) || !d.Missing["just-gone"].Equal(t0) || len(d.Missing) != 2 || !d.Next.Equal(t0.Add(q)) {
		t.Fatalf("first pass: orphans %v missing %v next %v", names(d), d.Missing, d.Next)
	}
	// Within the quarantine: still nothing.
	d = decidePodGC(in, exists, d.Missing, t0.Add(q-time.Second), q)
	if len(d.Orphans) != 0 {
		t.Fatalf("within the quarantine: %v", names(d))
	}
	// A node missing longer than the quarantine: its pods go.
	missing := map[string]time.Time{"gone": t0, "just-gone": t0.Add(30 * time.Second), "back": t0}
	d = decidePodGC(in, exists, missing, t0.Add(q), q)
	if got := names(d); !slices.Equal(got, []string{"orphan-1", "orphan-2"}) {
		t.Fatalf("after the quarantine: %v", got)
	}
	if _, ok := d.Missing["back"]; ok || !d.Next.Equal(t0.Add(30*time.Second+q)) {
		t.Fatalf("missing %v next %v: a node no pod names is forgotten; the next due quarantine is just-gone's", d.Missing, d.Next)
	}
}

func TestParseControllers(t *testing.T) {
	for spec, want := range map[string]string{
		"*":             strings.Join(Names(), ","),
		"*,-podgc":      strings.Join(slices.DeleteFunc(Names(), func(n string) bool { return n == PodGCName }), ","),
		"endpoints":     "endpoints",
		"podgc, -podgc": "error",
		"bogus":         "error",
		"*,-bogus":      "error",
	} {
		got, err := ParseControllers(spec)
		s := strings.Join(got, ",")
		if err != nil {
			s = "error"
		}
		if s != want {
			t.Errorf("ParseControllers(%q) = %q (%v), want %q", spec, s, err, want)
		}
	}
}
