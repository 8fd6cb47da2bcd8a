package client

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/weft-mesh/weft/api"
)

// ProxyAdmin calls the admin API of a pod's weft-proxy sidecar (GET or
// POST .../pods/{name}/proxy-admin/{path}, which the API server proxies to
// the pod's node agent) and returns the body: path "config_dump",
// "clusters", "listeners", "logging" (POST with level=debug to change it).
func (c *Client) ProxyAdmin(ctx context.Context, method, ns, pod, path string, query url.Values) ([]byte, error) {
	p := Path(api.LookupName("pods"), ns, pod) + "/proxy-admin/" + strings.TrimPrefix(path, "/")
	resp, err := c.do(ctx, c.hc, method, p, query, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the proxy admin's %s: %w", path, err)
	}
	return b, nil
}
