package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// The resource metrics API, as metrics-server serves it, aggregated from
// the agents (each serves GET /stats/metrics: {"node": NodeMetrics,
// "pods": [PodMetrics]}):
//
//	GET /apis/metrics.k8s.io/v1beta1/nodes[/{name}]
//	GET /apis/metrics.k8s.io/v1beta1/pods
//	GET /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]
//
// labelSelector filters lists. An agent that does not answer within a few
// seconds is left out, as metrics-server leaves out nodes it cannot scrape.
const metricsPrefix = "/apis/metrics.k8s.io/v1beta1/"

var (
	podMetricsGR  = schema.GroupResource{Group: "metrics.k8s.io", Resource: "pods"}
	nodeMetricsGR = schema.GroupResource{Group: "metrics.k8s.io", Resource: "nodes"}
)

// agentMetrics is the agents' /stats/metrics answer.
type agentMetrics struct {
	Node metricsv1beta1.NodeMetrics  `json:"node"`
	Pods []metricsv1beta1.PodMetrics `json:"pods"`
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, metricsPrefix), "/"), "/")
	ns := ""
	if len(parts) >= 3 && parts[0] == "namespaces" {
		ns, parts = parts[1], parts[2:]
	}
	if len(parts) == 0 || len(parts) > 2 || (parts[0] != "pods" && parts[0] != "nodes") || (parts[0] == "nodes" && ns != "") {
		writeStatus(w, apierrors.NewNotFound(schema.GroupResource{Group: "metrics.k8s.io"}, r.URL.Path))
		return
	}
	name := ""
	if len(parts) == 2 {
		name = parts[1]
	}
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest("labelSelector: "+err.Error()))
		return
	}
	all, err := s.scrapeAgents(r.Context())
	if err != nil {
		writeStatus(w, statusError(err, nil, ""))
		return
	}
	gv := metav1.TypeMeta{APIVersion: "metrics.k8s.io/v1beta1"}
	if parts[0] == "nodes" {
		var items []metricsv1beta1.NodeMetrics
		for _, m := range all {
			if (name == "" || m.Node.Name == name) && sel.Matches(labels.Set(m.Node.Labels)) {
				m.Node.TypeMeta = gv
				m.Node.Kind = "NodeMetrics"
				items = append(items, m.Node)
			}
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		if name != "" {
			if len(items) == 0 {
				writeStatus(w, apierrors.NewNotFound(nodeMetricsGR, name))
				return
			}
			writeJSON(w, http.StatusOK, items[0])
			return
		}
		writeJSON(w, http.StatusOK, metricsv1beta1.NodeMetricsList{TypeMeta: metav1.TypeMeta{APIVersion: gv.APIVersion, Kind: "NodeMetricsList"}, Items: orEmpty(items)})
		return
	}
	var items []metricsv1beta1.PodMetrics
	for _, m := range all {
		for _, p := range m.Pods {
			if (ns == "" || p.Namespace == ns) && (name == "" || p.Name == name) && sel.Matches(labels.Set(p.Labels)) {
				p.TypeMeta = gv
				p.Kind = "PodMetrics"
				items = append(items, p)
			}
		}
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	if name != "" {
		if len(items) == 0 {
			writeStatus(w, apierrors.NewNotFound(podMetricsGR, name))
			return
		}
		writeJSON(w, http.StatusOK, items[0])
		return
	}
	writeJSON(w, http.StatusOK, metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{APIVersion: gv.APIVersion, Kind: "PodMetricsList"}, Items: orEmpty(items)})
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// scrapeAgents asks every node's agent for its metrics, in parallel.
func (s *Server) scrapeAgents(ctx context.Context) ([]agentMetrics, error) {
	k := api.LookupName("nodes")
	kvs, _, err := s.cfg.Store.List(ctx, storagePrefix(k, ""), store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []agentMetrics
	for _, kv := range kvs {
		obj, err := decode(k, kv)
		if err != nil {
			return nil, err
		}
		u, err := nodeAgentURL(obj.(*corev1.Node))
		if err != nil {
			continue
		}
		u.Path = "/stats/metrics"
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := fetchAgentMetrics(ctx, u.String(), s.cfg.AgentToken)
			if err != nil {
				return
			}
			mu.Lock()
			out = append(out, m)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, nil
}

func fetchAgentMetrics(ctx context.Context, u, token string) (agentMetrics, error) {
	var m agentMetrics
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return m, err
	}
	setAgentAuth(req.Header, token)
	resp, err := agentClient.Do(req)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("%s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return m, fmt.Errorf("%s: %w", u, err)
	}
	if m.Node.Name == "" {
		return m, fmt.Errorf("%s: no node metrics yet", u)
	}
	return m, nil
}
