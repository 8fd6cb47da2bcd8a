package policies

import (
	"os"
	"slices"
	"strings"
	"testing"
)

type supportCase struct {
	name string
	spec string
	want []string // expected warnings, in order; each ends with notActedOn
}

func TestUnsupportedVirtualService(t *testing.T) {
	cases := []supportCase{
		{name: "everything acted on", spec: `{hosts: [reviews], gateways: [mesh], http: [
			{name: canary, match: [{name: m, uri: {prefix: /a}, scheme: {exact: http}, method: {exact: GET}, authority: {exact: a}, headers: {x: {exact: yes-please}}, withoutHeaders: {z: {}}, queryParams: {q: {exact: "1"}}, sourceLabels: {app: a}, port: 80, ignoreUriCase: true}],
			 route: [{destination: {host: reviews, subset: v2, port: {number: 9080}}, weight: 90, headers: {request: {set: {x: val}}}}, {destination: {host: reviews, subset: v1}, weight: 10}],
			 headers: {response: {remove: [x]}}, timeout: 2s, retries: {attempts: 3, perTryTimeout: 1s, retryOn: 5xx},
			 fault: {delay: {fixedDelay: 1s, percentage: {value: 10}}, abort: {httpStatus: 500, percentage: {value: 1}}},
			 mirror: {host: reviews, subset: v3}, mirrorPercentage: {value: 5}, rewrite: {uri: /b}},
			{match: [{uri: {prefix: /old}}], redirect: {uri: /new}},
			{match: [{uri: {prefix: /mirrors}}], route: [{destination: {host: reviews}}], mirrors: [{destination: {host: reviews, subset: v3}, percentage: {value: 5}}]},
			{directResponse: {status: 503}}],
			tcp: [{match: [{port: 27017, sourceLabels: {app: a}, destinationSubnets: [10.0.0.0/8]}], route: [{destination: {host: db}, weight: 100}]}]}`},
		{name: "gateways other than mesh", spec: `{hosts: [reviews], gateways: [bookinfo-gateway, mesh], http: [{route: [{destination: {host: reviews}}]}]}`,
			want: []string{`spec.gateways[0]: ` + notActedOn + ` ("bookinfo-gateway"; only "mesh" is)`}},
		{name: "not acted on", spec: `{hosts: [reviews], exportTo: ["."], http: [
			{match: [{gateways: [mesh], sourceNamespace: ns, statPrefix: s}], route: [{destination: {host: reviews}}], corsPolicy: {allowMethods: [GET]}},
			{delegate: {name: d}},
			{route: [{destination: {host: reviews}}], mirror: {host: reviews}, mirrorPercent: 50}],
			tls: [{match: [{sniHosts: [reviews]}], route: [{destination: {host: reviews}}]}],
			tcp: [{match: [{sourceSubnet: 10.0.0.0/8}], route: [{destination: {host: db}}]}]}`,
			want: []string{
				"spec.http[0].match[0].gateways: " + notActedOn,
				"spec.http[0].match[0].sourceNamespace: " + notActedOn,
				"spec.http[0].match[0].statPrefix: " + notActedOn,
				"spec.http[0].corsPolicy: " + notActedOn,
				"spec.http[1].delegate: " + notActedOn,
				"spec.http[2].mirrorPercent: " + notActedOn,
				"spec.tls: " + notActedOn,
				"spec.tcp[0].match[0].sourceSubnet: " + notActedOn,
				"spec.exportTo: " + notActedOn,
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vs := decodeVirtualService(t, tc.spec)
			if errs, _ := ValidateVirtualService(vs, specPath); len(errs) > 0 {
				t.Fatalf("spec does not validate: %v", errs)
			}
			if got := UnsupportedVirtualService(vs, specPath); !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestUnsupportedDestinationRule(t *testing.T) {
	const acted = `loadBalancer: {consistentHash: {httpCookie: {name: u, ttl: 10s}, maglev: {tableSize: 65537}}},
		connectionPool: {tcp: {maxConnections: 1, connectTimeout: 1s}, http: {http1MaxPendingRequests: 1, http2MaxRequests: 1, maxRequestsPerConnection: 1, maxRetries: 1, idleTimeout: 1s}},
		outlierDetection: {consecutive5xxErrors: 1, consecutiveGatewayErrors: 1, consecutiveErrors: 1, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 10}`
	cases := []supportCase{
		{name: "everything acted on", spec: `{host: reviews, trafficPolicy: {` + acted + `, portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_REQUEST}}]},
			subsets: [{name: v1, labels: {version: v1}, trafficPolicy: {` + acted + `, portLevelSettings: [{port: {number: 80}, ` + acted + `}]}}, {name: v2, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, ringHash: {minimumRingSize: 1024}}}}}, {name: v3, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x}}}}, {name: v4, trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: q}}}}]}`},
		{name: "not acted on", spec: `{host: reviews, exportTo: ["."], workloadSelector: {matchLabels: {app: a}},
			trafficPolicy: {tls: {mode: ISTIO_MUTUAL},
				loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {enabled: true}, warmup: {duration: 10s}},
				connectionPool: {tcp: {maxConnections: 1, tcpKeepalive: {time: 1s}, maxConnectionDuration: 1h, idleTimeout: 1h}, http: {h2UpgradePolicy: UPGRADE, useClientProtocol: false, maxConcurrentStreams: 10}},
				outlierDetection: {splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2},
				tunnel: {targetHost: a.com, targetPort: 443}},
			subsets: [{name: v1, trafficPolicy: {proxyProtocol: {version: V1}, portLevelSettings: [{port: {number: 80}, tls: {mode: SIMPLE}}]}}]}`,
			want: []string{
				"spec.trafficPolicy.loadBalancer.localityLbSetting: " + notActedOn,
				"spec.trafficPolicy.loadBalancer.warmup: " + notActedOn,
				"spec.trafficPolicy.connectionPool.tcp.tcpKeepalive: " + notActedOn,
				"spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration: " + notActedOn,
				"spec.trafficPolicy.connectionPool.tcp.idleTimeout: " + notActedOn,
				"spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: " + notActedOn,
				"spec.trafficPolicy.connectionPool.http.maxConcurrentStreams: " + notActedOn,
				"spec.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors: " + notActedOn,
				"spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures: " + notActedOn,
				"spec.trafficPolicy.tls: " + notActedOn,
				"spec.trafficPolicy.tunnel: " + notActedOn,
				"spec.subsets[0].trafficPolicy.portLevelSettings[0].tls: " + notActedOn,
				"spec.subsets[0].trafficPolicy.proxyProtocol: " + notActedOn,
				"spec.exportTo: " + notActedOn,
				"spec.workloadSelector: " + notActedOn,
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dr := decodeDestinationRule(t, tc.spec)
			if errs, _ := ValidateDestinationRule(dr, specPath); len(errs) > 0 {
				t.Fatalf("spec does not validate: %v", errs)
			}
			if got := UnsupportedDestinationRule(dr, specPath); !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestSupportTablesDocumented keeps doc.go's list of what Weft acts on in
// step with the tables in support.go.
func TestSupportTablesDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	var paths []string
	for _, r := range virtualServiceSupport {
		paths = append(paths, r.path)
	}
	paths = append(paths, trafficPolicySupport...)
	paths = append(paths, "host", "subsets.name", "subsets.labels", "portLevelSettings.port")
	for _, p := range paths {
		if !strings.Contains(text, p) {
			t.Errorf("doc.go does not mention %q", p)
		}
	}
}
