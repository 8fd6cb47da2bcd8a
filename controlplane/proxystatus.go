package controlplane

import (
	"encoding/json"
	"net/http"

	"github.com/weft-mesh/weft/controlplane/xds"
)

// ProxyStatusPath is where the API serves every connected proxy's xDS
// sync state (what `weftctl proxy-status` prints).
const ProxyStatusPath = "GET /weft/v1/proxy-status"

func proxyStatusHandler(s *xds.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Proxies  []xds.ProxyStatus `json:"proxies"`
			Warnings []xds.Warning     `json:"warnings"`
		}{s.Status(), s.Warnings()})
	})
}
