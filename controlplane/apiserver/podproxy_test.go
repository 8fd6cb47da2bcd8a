package apiserver_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/weft-mesh/weft/client"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// fakeAgent answers the agent's API as a node agent would.
func fakeAgent(t *testing.T, agentToken string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/default/p", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer "+agentToken {
			t.Errorf("the agent got Authorization %q, want the API server's own token", got)
		}
		io.WriteString(w, "container="+r.URL.Query().Get("container")+" previous="+r.URL.Query().Get("previous")+"\n")
	})
	mux.HandleFunc("POST /exec/default/p", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: weft-exec.v1\r\n\r\n")
		frame := func(stream byte, p []byte) {
			var hdr [5]byte
			hdr[0] = stream
			binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
			conn.Write(append(hdr[:], p...))
		}
		// Echo stdin to stdout until it closes, then exit with len(argv).
		for {
			var hdr [5]byte
			if _, err := io.ReadFull(brw, hdr[:]); err != nil {
				return
			}
			p := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
			io.ReadFull(brw, p)
			if len(p) == 0 {
				break
			}
			frame(1, p)
		}
		frame(2, []byte(strings.Join(r.URL.Query()["command"], " ")))
		b, _ := json.Marshal(map[string]int{"exitCode": len(r.URL.Query()["command"])})
		frame(3, b)
	})
	mux.HandleFunc("GET /stats/metrics", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"node": metricsv1beta1.NodeMetrics{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}},
			"pods": []metricsv1beta1.PodMetrics{{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "x"}},
				Containers: []metricsv1beta1.ContainerMetrics{{Name: "c", Usage: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("10Mi")}}}}},
		})
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func startWithAgent(t *testing.T) *fixture {
	f := start(t, boltstore.Options{})
	ctx := context.Background()
	agent := fakeAgent(t, f.agentToken)
	host, port, _ := net.SplitHostPort(agent.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	node, _, err := f.c.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	if err != nil {
		t.Fatal(err)
	}
	n := node.(*corev1.Node)
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: host}}
	n.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(p)
	if _, err := f.c.UpdateStatus(ctx, n); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"p", "unbound"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
		if name == "p" {
			pod.Spec.NodeName = "n1"
		}
		if _, _, err := f.c.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestPodLogsAreProxiedToTheAgent(t *testing.T) {
	f := startWithAgent(t)
	rc, err := f.c.Logs(context.Background(), "default", "p", client.LogOptions{Container: "c", Previous: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "container=c previous=true\n" {
		t.Fatalf("logs = %q", b)
	}
	_, err = f.c.Logs(context.Background(), "default", "unbound", client.LogOptions{})
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "does not have a host") {
		t.Fatalf("logs of an unbound pod: %v", err)
	}
	_, err = f.c.Logs(context.Background(), "default", "missing", client.LogOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("logs of a missing pod: %v", err)
	}
}

func TestPodExecIsProxiedToTheAgent(t *testing.T) {
	f := startWithAgent(t)
	var out, errb bytes.Buffer
	code, err := f.c.Exec(context.Background(), "default", "p", client.ExecOptions{
		Command: []string{"cat", "-"}, Stdin: strings.NewReader("hello"), Stdout: &out, Stderr: &errb})
	var ee *client.ExitError
	if code != 2 || !errors.As(err, &ee) || out.String() != "hello" || errb.String() != "cat -" {
		t.Fatalf("exec: code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errb.String())
	}
}

func TestMetricsAPIAggregatesAgents(t *testing.T) {
	f := startWithAgent(t)
	ctx := context.Background()
	pods, err := f.c.PodMetrics(ctx, "default", "app=x")
	if err != nil || len(pods) != 1 || pods[0].Containers[0].Usage.Memory().String() != "10Mi" {
		t.Fatalf("pod metrics: %+v, %v", pods, err)
	}
	if pods, _ := f.c.PodMetrics(ctx, "other", ""); len(pods) != 0 {
		t.Fatalf("pods of another namespace: %+v", pods)
	}
	nodes, err := f.c.NodeMetrics(ctx, "")
	if err != nil || len(nodes) != 1 || nodes[0].Usage.Cpu().MilliValue() != 250 || nodes[0].Kind != "NodeMetrics" {
		t.Fatalf("node metrics: %+v, %v", nodes, err)
	}
	if _, err := f.c.Raw(ctx, "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope"); !apierrors.IsNotFound(err) {
		t.Fatalf("metrics of a missing pod: %v", err)
	}
}
