package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	host, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	exec := func(_ context.Context, argv []string) ([]byte, int, error) {
		if argv[0] == "true" {
			return nil, 0, nil
		}
		return []byte("nope"), 1, nil
	}
	tgt := Target{PodIP: host, Container: c, Exec: exec}
	for _, tc := range []struct {
		name    string
		h       corev1.ProbeHandler
		want    bool
		wantMsg string
	}{
		{"http ok", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ok", Port: intstr.FromInt32(int32(port))}}, true, ""},
		{"http named port", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http")}}, true, ""},
		{"http 500", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/bad", Port: intstr.FromInt32(int32(port))}}, false, "statuscode: 500"},
		{"http closed", corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(int32(closedPort))}}, false, "refused"},
		{"tcp ok", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}, true, ""},
		{"tcp closed", corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(closedPort))}}, false, "refused"},
		{"exec ok", corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}, true, ""},
		{"exec fails", corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}, false, "exited with 1"},
		{"grpc closed", corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: int32(closedPort)}}, false, "failed to connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, msg := Check(context.Background(), tc.h, tgt, 2*time.Second)
			if ok != tc.want || !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("Check = %v, %q; want %v, containing %q", ok, msg, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestWorkerThresholds(t *testing.T) {
	exec := scriptedExec(true, false, false, false, true) // what the exec probe returns, in turn
	reports := make(chan bool, 10)
	fast := func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }
	w := &Worker{Kind: Readiness, After: fast, Target: Target{Exec: exec},
		Probe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}, FailureThreshold: 2},
		Report: func(ok bool, _ string) { reports <- ok }}
	var failed atomic.Int32
	w.Failed = func(msg string) {
		if !strings.HasPrefix(msg, "Readiness probe failed: ") {
			t.Errorf("Failed(%q)", msg)
		}
		failed.Add(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	expectReports(t, reports, true, false, true)
	cancel()
	<-done
	// Every failed probe is told (the kubelet records an event for each),
	// not only the one that crossed the threshold.
	if got := failed.Load(); got != 3 {
		t.Errorf("Failed called %d times, want 3", got)
	}
}

// TestWorkerEarlyAttempts: until its first success a readiness probe is
// tried again after 25 ms, 50 ms, 100 ms, ... within its period, and
// those early failures count for nothing.
func TestWorkerEarlyAttempts(t *testing.T) {
	var mu sync.Mutex
	exec := scriptedExec(false, false, false, true) // scheduled, early, early, early
	var waits []time.Duration
	after := func(d time.Duration) <-chan time.Time {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return time.After(time.Millisecond)
	}
	reports := make(chan bool, 10)
	w := &Worker{Kind: Readiness, After: after, Target: Target{Exec: exec},
		Probe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}, PeriodSeconds: 10, FailureThreshold: 1},
		Report: func(ok bool, _ string) { reports <- ok }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	expectReports(t, reports, false, true)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{0, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}; len(waits) < len(want) || !slices.Equal(waits[:len(want)], want) {
		t.Fatalf("waits %v, want %v first", waits, want)
	}
	select {
	case r := <-reports:
		t.Fatalf("extra report %v: early failures must not count", r)
	default:
	}
}

// expectReports waits for a worker's reports, in order.
func expectReports(t *testing.T, reports <-chan bool, wants ...bool) {
	t.Helper()
	for _, want := range wants {
		select {
		case got := <-reports:
			if got != want {
				t.Fatalf("report %v, want %v", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no report")
		}
	}
}

// scriptedExec is an exec probe target that succeeds or fails in the given
// order, then keeps the last verdict.
func scriptedExec(results ...bool) func(context.Context, []string) ([]byte, int, error) {
	var mu sync.Mutex
	i := 0
	return func(context.Context, []string) ([]byte, int, error) {
		mu.Lock()
		defer mu.Unlock()
		r := results[min(i, len(results)-1)]
		i++
		if r {
			return nil, 0, nil
		}
		return nil, 1, nil
	}
}
