package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

// checkAgentAuth: the node agent's API (logs, exec, metrics, proxy admin)
// answers only weftd's API server: a request straight to it without a
// token is refused (401), and so is a node's join token (403: only admins).
// The flows that go through the API server (logs, exec, proxy-config, top)
// are exercised by the tests that call this.
func checkAgentAuth(t *testing.T, w *weftd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	obj, err := w.client(t).Get(ctx, api.LookupName("nodes"), "", nodeName(w.dataDir))
	if err != nil {
		t.Fatal(err)
	}
	n := obj.(*corev1.Node)
	ip := ""
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
		}
	}
	url := fmt.Sprintf("http://%s/stats/metrics", net.JoinHostPort(ip, strconv.Itoa(int(n.Status.DaemonEndpoints.KubeletEndpoint.Port))))
	join, err := os.ReadFile(filepath.Join(w.dataDir, "join.token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"not-a-token", http.StatusUnauthorized}, {strings.TrimSpace(string(join)), http.StatusForbidden}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s straight to the agent, token %.8q…: %s, want %d", url, tc.token, resp.Status, tc.want)
		}
	}
}
