package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/client"
)

// clientMetrics is the MetricsSource over the metrics API
// (metrics.k8s.io/v1beta1 PodMetrics) served by weftd.
func clientMetrics(c *client.Client) MetricsSource { return apiMetrics{c: c} }

type apiMetrics struct{ c *client.Client }

func (m apiMetrics) PodMetrics(ctx context.Context, ns string, sel labels.Selector) ([]PodUsage, error) {
	items, err := m.c.PodMetrics(ctx, ns, sel.String())
	if err != nil {
		return nil, fmt.Errorf("pod metrics: %w", err)
	}
	out := make([]PodUsage, 0, len(items))
	for _, it := range items {
		u := PodUsage{Name: it.Name, Timestamp: it.Timestamp.Time, Window: it.Window.Duration, Containers: map[string]corev1.ResourceList{}}
		for _, c := range it.Containers {
			u.Containers[c.Name] = c.Usage
		}
		out = append(out, u)
	}
	return out, nil
}
