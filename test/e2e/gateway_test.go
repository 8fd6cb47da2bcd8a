package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

// gatewayNodeIPs are the node IPs of TestNodeGateway's clusters, one per
// network mode: node ports bind them, so no other test may use them.
var gatewayNodeIPs = map[string]string{"host": "127.0.0.41", "netns": "127.0.0.42"}

// TestNodeGateway is seed 02 (and 03's LoadBalancer) from outside the mesh: the node's
// gateway proxy answers on the node IP at the NodePort service's nodePort
// (30044) and at a LoadBalancer service's, which gets the node IP as its
// ingress and answers there at its own port too. Then, for a sidecar pod, proxy-config shows what its proxy
// holds, and apply --wait returns only once the proxies have ACKed the
// change: the new subsets are in the sidecar's clusters right after.
func TestNodeGateway(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ip := gatewayNodeIPs[mode]
			w := startWeftd(t, t.TempDir(), "--network", mode, "--node-ip", ip, "--agent-addr", ip+":0")
			c := w.client(t)
			applyFile(t, w, "seeds/02-test-web.yaml")
			waitFor(t, 120*time.Second, "a ready test-web pod", func() bool {
				return countReady(listPods(t, c, "app=test-web-deployment")) > 0
			})
			hc := &http.Client{Timeout: 5 * time.Second}
			get := func(url string) (int, string) {
				resp, err := hc.Get(url)
				if err != nil {
					return 0, err.Error()
				}
				resp.Body.Close()
				return resp.StatusCode, resp.Header.Get("Server")
			}
			url := fmt.Sprintf("http://%s:30044/", ip)
			var code int
			var server string
			waitFor(t, 60*time.Second, "the NodePort answering on "+url, func() bool {
				code, server = get(url)
				return code == http.StatusOK && strings.HasPrefix(server, "nginx/")
			})

			// The gateway is a proxy like the others: proxy-status lists it.
			out, errOut, rc := w.weftctl(t, "", "proxy-status")
			if rc != 0 || !strings.Contains(out, "router") || !strings.Contains(out, ip) {
				t.Errorf("proxy-status should list the node gateway (router, %s): %d\n%s%s", ip, rc, out, errOut)
			}

			// Seed 03's LoadBalancer (whose port the seed leaves out, which
			// Kubernetes rejects too): it gets the node IP as its ingress
			// and answers at its nodePort and at the ingress IP's port 80.
			lb := "apiVersion: v1\nkind: Service\nmetadata: {name: nginx}\nspec:\n  type: LoadBalancer\n" +
				"  ports: [{name: http, port: 80, targetPort: 80, protocol: TCP}]\n  selector: {app: test-web-deployment}\n"
			if out, errOut, code := w.weftctl(t, lb, "apply", "-f", "-"); code != 0 {
				t.Fatalf("apply the LoadBalancer: %s%s", out, errOut)
			}
			var svc *corev1.Service
			waitFor(t, 60*time.Second, "the LoadBalancer's ingress to be the node IP", func() bool {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				obj, err := c.Get(ctx, api.LookupName("services"), "default", "nginx")
				if err != nil {
					return false
				}
				svc = obj.(*corev1.Service)
				return slices.ContainsFunc(svc.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) bool { return i.IP == ip })
			})
			if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].NodePort == 0 {
				t.Fatalf("the LoadBalancer has no nodePort: %+v", svc.Spec.Ports)
			}
			lbURL := fmt.Sprintf("http://%s:%d/", ip, svc.Spec.Ports[0].NodePort)
			waitFor(t, 120*time.Second, "the LoadBalancer answering on "+lbURL, func() bool {
				code, server = get(lbURL)
				return code == http.StatusOK && strings.HasPrefix(server, "nginx/")
			})
			// And at EXTERNAL-IP:PORT, as a load balancer would.
			extURL := fmt.Sprintf("http://%s:%d/", ip, svc.Spec.Ports[0].Port)
			waitFor(t, 60*time.Second, "the LoadBalancer answering on its external IP at "+extURL, func() bool {
				code, server = get(extURL)
				return code == http.StatusOK && strings.HasPrefix(server, "nginx/")
			})
			if out, _, _ := w.weftctl(t, "", "get", "svc", "nginx"); !strings.Contains(out, ip) {
				t.Errorf("get svc should show the external IP %s:\n%s", ip, out)
			}

			testProxyConfig(t, w)
			checkAgentAuth(t, w)
		})
	}
}

// testProxyConfig runs the istioctl-like verbs against the sleep pod's
// sidecar, and apply --wait.
func testProxyConfig(t *testing.T, w *weftd) {
	applyFile(t, w, "seeds/10-flaskapp.yaml")
	applyFile(t, w, "seeds/11-sleep.yaml")
	waitFor(t, 120*time.Second, "flaskapp v1, v2 and sleep ready", func() bool {
		return countReady(listPods(t, w.client(t), "app in (flaskapp,sleep)")) == 3
	})
	sleep := podName(t, w, "app=sleep")
	pc := func(args ...string) string {
		t.Helper()
		out, errOut, code := w.weftctl(t, "", append([]string{"proxy-config"}, args...)...)
		if code != 0 {
			t.Fatalf("proxy-config %v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	fqdn := "flaskapp.default.svc.cluster.local"
	waitFor(t, 60*time.Second, "the sidecar to hold flaskapp's cluster", func() bool {
		return strings.Contains(pc("clusters", sleep), fqdn)
	})
	listeners := pc("listeners", sleep)
	if !strings.HasPrefix(listeners, "ADDRESSES") {
		t.Errorf("listeners table:\n%s", listeners)
	}
	// flaskapp's HTTP port 80 is routed (rds "80", or "http_proxy" where
	// the proxy serves an HTTP proxy instead of capturing).
	if !strings.Contains(listeners, "Route: 80") && !strings.Contains(listeners, "Route: http_proxy") {
		t.Errorf("listeners of %s should route HTTP port 80:\n%s", sleep, listeners)
	}
	if routes := pc("routes", sleep); !strings.Contains(routes, fqdn+":80") {
		t.Errorf("routes of %s should have the virtual host %s:80:\n%s", sleep, fqdn, routes)
	}
	// The pods are Ready; their endpoints reach the sidecar a push later.
	waitFor(t, 30*time.Second, "flaskapp's two endpoints healthy in the sidecar", func() bool {
		return strings.Count(pc("endpoints", sleep, "--cluster", "outbound|80||"+fqdn), "HEALTHY") == 2
	})
	if js := pc("clusters", sleep+".default", "-o", "json"); !strings.Contains(js, `"name": "outbound|80||`+fqdn+`"`) {
		t.Errorf("clusters -o json:\n%.2000s", js)
	}
	if lv := pc("log", sleep); !strings.Contains(lv, "weft-proxy: info") {
		t.Errorf("log level: %s", lv)
	}
	if lv := pc("log", sleep, "--level", "debug"); !strings.Contains(lv, "weft-proxy: debug") {
		t.Errorf("log --level debug: %s", lv)
	}

	// apply --wait returns once the proxies hold the subsets.
	out, errOut, code := w.weftctl(t, "", "apply", "--wait", "--timeout", "60s", "-f", corpus+"/seeds/12-flaskapp-destinationrule.yaml")
	if code != 0 || !strings.Contains(out, "synced") || !strings.Contains(out, "waiting for") {
		t.Fatalf("apply --wait: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("apply --wait:\n%s%s", out, errOut)
	if clusters := pc("clusters", sleep, "--fqdn", fqdn); !strings.Contains(clusters, "v1") || !strings.Contains(clusters, "v2") {
		t.Errorf("right after apply --wait the sidecar should hold the v1 and v2 subsets:\n%s\n(apply said:\n%s)", clusters, out)
	}
	out, errOut, code = w.weftctl(t, "", "apply", "--wait", "-f", corpus+"/seeds/12-flaskapp-destinationrule.yaml")
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Errorf("apply --wait of an unchanged file: exit %d\n%s%s", code, out, errOut)
	}
}
