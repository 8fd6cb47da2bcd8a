package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

const metricsBase = "/apis/metrics.k8s.io/v1beta1"

// PodMetrics lists pods' resource usage from the metrics API, in ns (""
// for all namespaces), filtered by a label selector ("" for all).
func (c *Client) PodMetrics(ctx context.Context, ns, selector string) ([]metricsv1beta1.PodMetrics, error) {
	p := metricsBase + "/pods"
	if ns != "" {
		p = metricsBase + "/namespaces/" + url.PathEscape(ns) + "/pods"
	}
	var list metricsv1beta1.PodMetricsList
	if err := c.getJSON(ctx, p, selector, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// NodeMetrics lists nodes' resource usage from the metrics API.
func (c *Client) NodeMetrics(ctx context.Context, selector string) ([]metricsv1beta1.NodeMetrics, error) {
	var list metricsv1beta1.NodeMetricsList
	if err := c.getJSON(ctx, metricsBase+"/nodes", selector, &list); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (c *Client) getJSON(ctx context.Context, path, selector string, v any) error {
	q := url.Values{}
	if selector != "" {
		q.Set("labelSelector", selector)
	}
	resp, err := c.do(ctx, c.hc, http.MethodGet, path, q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}
