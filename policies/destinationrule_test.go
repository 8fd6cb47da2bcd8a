package policies

import (
	"strings"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
)

func runDestinationRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dr := decodeDestinationRule(t, tc.spec)
			errs, warnings := ValidateDestinationRule(dr, specPath)
			checkRuleCase(t, tc, errs, warnings)
		})
	}
}

func TestDestinationRuleRules(t *testing.T) {
	runDestinationRuleCases(t, []ruleCase{
		// 28, 29: host.
		{name: "28 missing host", spec: `{subsets: [{name: v1, labels: {version: v1}}]}`,
			field: "spec.host", text: "Required value"},
		{name: "29 empty label", spec: `{host: reviews..svc}`,
			field: "spec.host", text: `domain name ".svc" invalid (label "" invalid)`},
		{name: "29 bad character", spec: `{host: "reviews_v1"}`,
			field: "spec.host", text: `label "reviews_v1" invalid`},
		{name: "29 numeric tld", spec: `{host: reviews.default.123}`,
			field: "spec.host", text: "cannot be all-numeric"},
		{name: "29 hosts", spec: `{host: "*.foo.com", trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}`},
		{name: "29 short name", spec: `{host: reviews}`},

		// 30, 31: subsets.
		{name: "30 subset name with dot", spec: `{host: reviews, subsets: [{name: v1.0, labels: {version: v1}}]}`,
			field: "spec.subsets[0].name", text: "subset name is invalid: v1.0"},
		{name: "30 subset name with underscore", spec: `{host: reviews, subsets: [{name: v_1}]}`,
			field: "spec.subsets[0].name", text: "subset name is invalid: v_1"},
		{name: "30 empty subset name", spec: `{host: reviews, subsets: [{labels: {version: v1}}]}`,
			field: "spec.subsets[0].name", text: "subset name cannot be empty"},
		{name: "30 bad subset label", spec: `{host: reviews, subsets: [{name: v1, labels: {version: "v1 beta"}}]}`,
			field: "spec.subsets[0].labels[version]", text: `invalid tag value: "v1 beta"`},
		{name: "31 duplicate subsets", spec: `{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v1, labels: {version: v2}}]}`,
			field: "spec.subsets[1].name", text: "duplicate subset names: v1"},
		{name: "30 subsets", spec: `{host: reviews, subsets: [{name: V1, labels: {version: v1}}, {name: v2-canary, labels: {version: v2, app.kubernetes.io/name: reviews}}]}`},

		// 32: empty traffic policies.
		{name: "32 empty traffic policy", spec: `{host: reviews, trafficPolicy: {}}`,
			field: "spec.trafficPolicy", text: "traffic policy must have at least one field"},
		{name: "32 empty subset traffic policy", spec: `{host: reviews, subsets: [{name: v1, trafficPolicy: {}}]}`,
			field: "spec.subsets[0].trafficPolicy", text: "traffic policy must have at least one field"},
		{name: "32 port level settings without port", spec: `{host: reviews, trafficPolicy: {portLevelSettings: [{connectionPool: {tcp: {maxConnections: 1}}}]}}`,
			field: "spec.trafficPolicy.portLevelSettings[0].port", text: "portTrafficPolicy must have valid port"},
		{name: "32 port level settings without policy", spec: `{host: reviews, trafficPolicy: {portLevelSettings: [{port: {number: 80}}]}}`,
			field: "spec.trafficPolicy.portLevelSettings[0]", text: "port traffic policy must have at least one field"},
		{name: "32 port level settings", spec: `{host: reviews, trafficPolicy: {portLevelSettings: [{port: {number: 80}, loadBalancer: {simple: LEAST_REQUEST}}, {port: {number: 443}, tls: {mode: SIMPLE}}]}}`},

		// 33, 34: connection pools.
		{name: "33 negative maxConnections", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {maxConnections: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.maxConnections", text: "max connections must be non-negative"},
		{name: "33 negative http1MaxPendingRequests", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {http1MaxPendingRequests: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests", text: "http1 max pending requests must be non-negative"},
		{name: "33 negative http2MaxRequests", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {http2MaxRequests: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.http2MaxRequests", text: "http2 max requests must be non-negative"},
		{name: "33 negative maxRequestsPerConnection", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection", text: "max requests per connection must be non-negative"},
		{name: "33 negative maxRetries", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {maxRetries: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.maxRetries", text: "max retries must be non-negative"},
		{name: "33 negative maxConcurrentStreams", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {maxConcurrentStreams: -1}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.maxConcurrentStreams", text: "max concurrent streams must be non-negative"},
		{name: "33 empty connection pool", spec: `{host: httpbin, trafficPolicy: {connectionPool: {}}}`,
			field: "spec.trafficPolicy.connectionPool", text: "connection pool must have at least one field"},
		{name: "33 upgrade and client protocol", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {h2UpgradePolicy: UPGRADE, useClientProtocol: true}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.useClientProtocol", text: "use client protocol must not be true when H2UpgradePolicy is UPGRADE"},
		{name: "33 http2KeepAlive without timeout", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {http2KeepAlive: {interval: 10s}}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.http2KeepAlive.timeout", text: "Required value"},
		{name: "33 http2KeepAlive without interval", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {http2KeepAlive: {timeout: 10s}}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.http2KeepAlive.interval", text: "Required value"},
		{name: "33 port level negative", spec: `{host: httpbin, trafficPolicy: {portLevelSettings: [{port: {number: 80}, connectionPool: {tcp: {maxConnections: -5}}}]}}`,
			field: "spec.trafficPolicy.portLevelSettings[0].connectionPool.tcp.maxConnections", text: "max connections must be non-negative"},
		{name: "34 zero connectTimeout", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {connectTimeout: 0s}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.connectTimeout", text: "duration must be greater than 1ms"},
		{name: "34 sub-ms maxConnectionDuration", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {maxConnectionDuration: 0.5ms}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration", text: "duration must be greater than 1ms"},
		{name: "34 zero tcpKeepalive time", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {tcpKeepalive: {time: 0s, interval: 75s}}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time", text: "duration must be greater than 1ms"},
		{name: "34 zero http idleTimeout", spec: `{host: httpbin, trafficPolicy: {connectionPool: {http: {idleTimeout: 0s}}}}`,
			field: "spec.trafficPolicy.connectionPool.http.idleTimeout", text: "duration must be greater than 1ms"},
		{name: "34 sub-ms tcp idleTimeout", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {idleTimeout: 0.5ms}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.idleTimeout", text: "duration must be greater than 1ms"},
		{name: "13 connectTimeout not whole ms", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {connectTimeout: 1.0005s}}}}`,
			field: "spec.trafficPolicy.connectionPool.tcp.connectTimeout", text: "only durations to ms precision are supported"},
		{name: "34 zero tcp idleTimeout disables it", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {idleTimeout: 0s}}}}`},
		{name: "34 connection pool", spec: `{host: httpbin, trafficPolicy: {connectionPool: {tcp: {maxConnections: 1, connectTimeout: 30ms, tcpKeepalive: {time: 7200s, interval: 75s, probes: 9}}, http: {http1MaxPendingRequests: 1, http2MaxRequests: 0, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 1h, h2UpgradePolicy: UPGRADE, http2KeepAlive: {interval: 30s, timeout: 5s}}}}}`},

		// 36, 37: outlier detection.
		{name: "36 maxEjectionPercent above 100", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {maxEjectionPercent: 101}}}`,
			field: "spec.trafficPolicy.outlierDetection.maxEjectionPercent", text: "percentage 101 is not in range 0..100"},
		{name: "36 negative minHealthPercent", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {minHealthPercent: -1}}}`,
			field: "spec.trafficPolicy.outlierDetection.minHealthPercent", text: "percentage -1 is not in range 0..100"},
		{name: "37 local origin failures without split", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {consecutiveLocalOriginFailures: 5}}}`,
			field: "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures",
			text:  "outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false"},
		{name: "37 zero interval", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {interval: 0s}}}`,
			field: "spec.trafficPolicy.outlierDetection.interval", text: "duration must be greater than 1ms"},
		{name: "37 sub-ms baseEjectionTime", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {baseEjectionTime: 100us}}}`,
			field: "spec.trafficPolicy.outlierDetection.baseEjectionTime", text: "duration must be greater than 1ms"},
		{name: "37 deprecated consecutiveErrors warns", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {consecutiveErrors: 1, interval: 1s}}}`,
			warning: "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead"},
		{name: "37 bad http error code", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {outlierDetectionHttpErrorCodes: [503, 99]}}}`,
			field: "spec.trafficPolicy.outlierDetection.outlierDetectionHttpErrorCodes[1]", text: "HTTP status 99 is not in range 100-599"},
		{name: "37 outlier detection", spec: `{host: httpbin, trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1, consecutiveGatewayErrors: 2, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100, minHealthPercent: 0}}}`},

		// 38: load balancers.
		{name: "38 cookie without name", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {ttl: 0s}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name", text: "name required for HttpCookie"},
		{name: "38 duplicate cookie attributes", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, attributes: [{name: SameSite, value: Strict}, {name: SameSite, value: Lax}]}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[1].name", text: "cookie attribute name SameSite is duplicated"},
		{name: "38 empty cookie attribute", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, attributes: [{value: x}]}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.attributes[0].name", text: "cookie attribute name cannot be empty"},
		{name: "38 maglev table size 0", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize", text: "tableSize must be set for maglev"},
		{name: "38 maglev table size not prime", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 65536}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize", text: "tableSize must be a prime number for maglev"},
		{name: "38 maglev table size too large", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true, maglev: {tableSize: 18446744073709551557}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize", text: "tableSize must be less than 5000011 for maglev"},
		{name: "38 minimumRingSize with ringHash", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, minimumRingSize: 1024, ringHash: {minimumRingSize: 1024}}}}}`,
			field: "spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize", text: "only one of MinimumRingSize or Maglev/Ringhash can be specified"},
		{name: "38 consistent hashes", spec: `{host: reviews, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s, path: /}, maglev: {tableSize: 65537}}}}, subsets: [{name: v1, trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: id, ringHash: {minimumRingSize: 1024}}}}}, {name: v2, trafficPolicy: {loadBalancer: {consistentHash: {httpHeaderName: x-user, minimumRingSize: 42}}}}]}`},

		// 39: locality load balancing.
		{name: "39 weights not adding up", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {enabled: true, distribute: [{from: us-west/zone1/*, to: {"us-west/zone1/*": 70, "us-west/zone2/*": 20}}]}}, outlierDetection: {consecutive5xxErrors: 5}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to", text: "total locality weight 90 != 100"},
		{name: "39 weight zero", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: us-west/*, to: {"us-west/*": 0, "us-east/*": 100}}]}}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to[us-west/*]", text: "locality weight must be in range [1, 100]"},
		{name: "39 distribute and failover", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: us-west/*, to: {"us-west/*": 100}}], failover: [{from: us-east, to: eu-west}]}}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.failover", text: "can not simultaneously specify 'distribute' and 'failover'"},
		{name: "39 failover to itself", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-east}]}}, outlierDetection: {consecutive5xxErrors: 5}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]", text: "locality lb failover settings must specify different regions"},
		{name: "39 failover with zone", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us-east/zone1, to: us-west}]}}, outlierDetection: {consecutive5xxErrors: 5}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]", text: "locality lb failover only specify region"},
		{name: "39 failover wildcard", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: "*", to: us-west}]}}, outlierDetection: {consecutive5xxErrors: 5}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]", text: "locality lb failover region should not contain '*' wildcard"},
		{name: "39 failover and topology priority", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-west}], failoverPriority: [topology.kubernetes.io/zone]}}, outlierDetection: {consecutive5xxErrors: 5}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority[0]", text: "can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone'"},
		{name: "39 overlapping localities", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: us-west/*, to: {"us-west/*": 50, "us-east/*": 50}}, {from: us-west/zone1/*, to: {"us-west/zone1/*": 100}}]}}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute", text: "locality us-west/zone1/* overlap with previous specified ones"},
		{name: "39 misplaced wildcard", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {distribute: [{from: "*/zone1", to: {"us-west/*": 100}}]}}}}`,
			field: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute", text: "wildcard '*' number can not exceed 1 and must be in the end"},
		{name: "39 failover without outlier detection warns", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: us-east, to: us-west}]}}}}`,
			warning: "outlier detection policy must be provided for failover"},
		{name: "39 locality settings", spec: `{host: reviews, trafficPolicy: {loadBalancer: {localityLbSetting: {enabled: true, distribute: [{from: us-west/zone1/*, to: {"us-west/zone1/*": 80, "us-west/zone2/*": 20}}, {from: us-east/*, to: {"us-east/*": 100}}]}}, outlierDetection: {consecutive5xxErrors: 5}}}`},

		// 40: client TLS.
		{name: "40 mutual without credentials", spec: `{host: reviews, trafficPolicy: {tls: {mode: MUTUAL}}}`,
			field: "spec.trafficPolicy.tls.clientCertificate", text: "client certificate required for mutual tls"},
		{name: "40 mutual without key", spec: `{host: reviews, trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /etc/certs/cert.pem}}}`,
			field: "spec.trafficPolicy.tls.privateKey", text: "private key required for mutual tls"},
		{name: "40 insecureSkipVerify with CA", spec: `{host: reviews, trafficPolicy: {tls: {mode: SIMPLE, insecureSkipVerify: true, caCertificates: /etc/ca.pem}}}`,
			field: "spec.trafficPolicy.tls.insecureSkipVerify", text: "cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"},
		{name: "40 mutual insecureSkipVerify with SANs", spec: `{host: reviews, trafficPolicy: {tls: {mode: MUTUAL, credentialName: c, insecureSkipVerify: true, subjectAltNames: [a]}}}`,
			field: "spec.trafficPolicy.tls.insecureSkipVerify", text: "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"},
		{name: "40 credentialName with files", spec: `{host: reviews, trafficPolicy: {tls: {mode: SIMPLE, credentialName: c, caCertificates: /etc/ca.pem}}}`,
			field: "spec.trafficPolicy.tls.credentialName", text: "cannot specify client certificates or CA certificate or CA CRL If credentialName is set"},
		{name: "40 port level mutual", spec: `{host: reviews, trafficPolicy: {portLevelSettings: [{port: {number: 443}, tls: {mode: MUTUAL}}]}}`,
			field: "spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate", text: "client certificate required for mutual tls"},
		{name: "40 tls settings", spec: `{host: reviews, trafficPolicy: {tls: {mode: MUTUAL, credentialName: client-cert}}, subsets: [{name: v1, trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, sni: r.com}}}, {name: v2, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}]}`},
	})
}

// TestDestinationRuleOtherRules covers the rejections RULES.md lists
// without a file, and the CRD value checks that survive decoding.
func TestDestinationRuleOtherRules(t *testing.T) {
	runDestinationRuleCases(t, []ruleCase{
		{name: "exportTo duplicate", spec: `{host: reviews, exportTo: [".", "."]}`,
			field: "spec.exportTo[1]", text: "duplicate entries in exportTo for entry ."},
		{name: "exportTo public and more", spec: `{host: reviews, exportTo: [a, "*"]}`,
			field: "spec.exportTo", text: "cannot have both public (*) and non-public exportTo values"},
		{name: "workloadSelector exported everywhere", spec: `{host: reviews, workloadSelector: {matchLabels: {app: reviews}}, exportTo: ["*"]}`,
			field: "spec.exportTo", text: "destination rule with workload selector cannot have exportTo beyond current namespace"},
		{name: "workloadSelector exported to several", spec: `{host: reviews, workloadSelector: {matchLabels: {app: reviews}}, exportTo: [".", other]}`,
			field: "spec.exportTo", text: "destination rule with workload selector cannot have multiple entries in exportTo"},
		{name: "workloadSelector wildcard", spec: `{host: reviews, workloadSelector: {matchLabels: {app: "rev*"}}}`,
			field: "spec.workloadSelector.matchLabels[app]", text: "wildcard is not supported in selector"},
		{name: "workloadSelector", spec: `{host: reviews, workloadSelector: {matchLabels: {app: reviews}}, exportTo: ["."]}`},

		{name: "tunnel and proxyProtocol", spec: `{host: reviews, trafficPolicy: {tunnel: {protocol: CONNECT, targetHost: a.com, targetPort: 8443}, proxyProtocol: {version: V2}}}`,
			field: "spec.trafficPolicy.proxyProtocol", text: "tunnel and proxyProtocol must not be specified at the same time"},
		{name: "tunnel protocol", spec: `{host: reviews, trafficPolicy: {tunnel: {protocol: GET, targetHost: a.com, targetPort: 8443}}}`,
			field: "spec.trafficPolicy.tunnel.protocol", text: "Unsupported value"},
		{name: "tunnel target host", spec: `{host: reviews, trafficPolicy: {tunnel: {targetHost: "a_b", targetPort: 8443}}}`,
			field: "spec.trafficPolicy.tunnel.targetHost", text: "tunnel target host must be valid FQDN or IP address"},
		{name: "tunnel target port", spec: `{host: reviews, trafficPolicy: {tunnel: {targetHost: 10.0.0.1}}}`,
			field: "spec.trafficPolicy.tunnel.targetPort", text: "port number 0 must be in the range 1..65535"},
		{name: "tunnel", spec: `{host: reviews, trafficPolicy: {tunnel: {protocol: POST, targetHost: egress.example.com, targetPort: 8443}}}`},

		{name: "warmup minimumPercent", spec: `{host: reviews, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 60s, minimumPercent: 101}}}}`,
			field: "spec.trafficPolicy.loadBalancer.warmup.minimumPercent", text: "minimumPercent must be in range 0..100"},
		{name: "warmup aggression", spec: `{host: reviews, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 60s, aggression: 0}}}}`,
			field: "spec.trafficPolicy.loadBalancer.warmup.aggression", text: "aggression must be greater than 0"},
		{name: "warmup twice", spec: `{host: reviews, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 60s, warmup: {duration: 60s}}}}`,
			field: "spec.trafficPolicy.loadBalancer.warmup", text: "only one of warmupDurationSecs or warmup can be set"},
		{name: "warmup without duration", spec: `{host: reviews, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, warmup: {aggression: 2}}}}`,
			field: "spec.trafficPolicy.loadBalancer.warmup.duration", text: "Required value"},
		{name: "warmup", spec: `{host: reviews, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST, warmup: {duration: 60s, minimumPercent: 10, aggression: 1.5}}}}`},

		{name: "retryBudget percent", spec: `{host: reviews, trafficPolicy: {retryBudget: {percent: 120}}}`,
			field: "spec.trafficPolicy.retryBudget.percent", text: "percent must be in range 0..100"},
		{name: "too many port level settings", spec: `{host: reviews, trafficPolicy: {portLevelSettings: [` + strings.Repeat(`{port: {number: 80}, loadBalancer: {simple: RANDOM}},`, 4097) + `]}}`,
			field: "spec.trafficPolicy.portLevelSettings", text: "Too many"},
	})
}

// TestDestinationRuleNegativeUint32 covers rule 35: a negative
// consecutive5xxErrors cannot be decoded into its uint32 wrapper, so it is
// rejected before validation, as Istio's schema and webhook both do.
func TestDestinationRuleNegativeUint32(t *testing.T) {
	for _, f := range []string{"consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveLocalOriginFailures"} {
		dr := &networking.DestinationRule{}
		err := dr.UnmarshalJSON([]byte(`{"host": "httpbin", "trafficPolicy": {"outlierDetection": {"` + f + `": -1}}}`))
		if err == nil {
			t.Errorf("%s: -1 decoded as %v", f, dr.GetTrafficPolicy().GetOutlierDetection())
		}
	}
}
