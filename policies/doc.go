// Package policies holds the semantics of Weft's traffic policies, shared by
// the control plane and the CLI. For now it validates Istio VirtualService
// and DestinationRule specs (istio.io/api networking v1alpha3 types; v1 and
// v1beta1 are aliases of them) the way Istio's validating webhook does, and
// says which accepted fields Weft does not act on yet.
//
// # Validation
//
// ValidateVirtualService and ValidateDestinationRule return every problem
// of a spec as a field.ErrorList whose paths are rooted at the path the
// caller passes (field.NewPath("spec")), e.g.
//
//	spec.http[0].route[1].weight: Invalid value: -20: weight -20 < 0
//
// Messages carry Istio's own text where Istio has one, so users can search
// for them. They also return warnings, which do not reject the spec
// (deprecated consecutiveErrors and mirrorPercent, rules that can never
// match, legacy "name.namespace" gateway names, ...); each warning starts
// with the path it is about.
//
// The checks follow istio/pkg/config/validation (see
// testdata/corpus/invalid/RULES.md), plus the value checks of Istio's CRD
// schema that survive decoding (duration ≥ 1ms, warmup and retry budget
// percentages, outlier detection HTTP codes, portLevelSettings ≤ 4096).
// Notable points:
//
//   - Route weights need not sum to 100; only negative weights, and all-zero
//     weights across two or more destinations, are rejected.
//   - Durations must be at least 1ms and whole milliseconds, except
//     connectionPool.tcp.idleTimeout (0s disables it), httpCookie.ttl (0s is
//     a session cookie) and retryBudget.budgetInterval, which Istio leaves
//     unchecked too. CORS maxAge must be whole seconds.
//   - Regular expressions must compile as RE2 (Go's regexp) and be at most
//     1024 characters long.
//   - fault.abort.httpStatus 600 is accepted, as in Istio (its message says
//     200-599, its code tests > 600).
//
// Left to the decoder, because the decoded types cannot carry them: unknown
// fields (websocketUpgrade, abort.percent), negative values of unsigned
// fields (consecutive5xxErrors: -1), and two members of one oneOf group
// (simple with consistentHash; exact with prefix), of which jsonpb keeps the
// last. The resource's namespace is not known here, so exportTo cannot tell
// "." from the namespace's own name.
//
// # What Weft acts on
//
// UnsupportedVirtualService and UnsupportedDestinationRule walk a spec and
// report every field that is set but that Weft's data plane does not act on
// yet, as "spec.http[0].corsPolicy: accepted but not acted on by Weft yet",
// so that apply can say so instead of ignoring it silently. Fields a newer
// istio.io/api adds are reported too. The tables live in support.go; extend
// them there (and here) as the data plane grows.
//
// VirtualService fields Weft acts on:
//
//	hosts
//	gateways                      only "mesh"; any other gateway is reported
//	http.name
//	http.match.name, http.match.uri, http.match.scheme, http.match.method,
//	http.match.authority, http.match.headers, http.match.withoutHeaders,
//	http.match.queryParams, http.match.sourceLabels, http.match.port,
//	http.match.ignoreUriCase
//	http.route.destination        host, subset, port
//	http.route.weight
//	http.route.headers
//	http.redirect, http.directResponse, http.rewrite, http.headers,
//	http.timeout, http.retries, http.fault,
//	http.mirror, http.mirrors, http.mirrorPercentage
//	tcp.match.port, tcp.match.sourceLabels, tcp.match.destinationSubnets
//	tcp.route.destination, tcp.route.weight
//
// Not yet: exportTo, tls routes, http.corsPolicy, http.delegate,
// http.mirrorPercent (deprecated), http.match.gateways,
// http.match.sourceNamespace, http.match.statPrefix, tcp.match.sourceSubnet,
// tcp.match.gateways, tcp.match.sourceNamespace.
//
// DestinationRule fields Weft acts on: host, subsets.name, subsets.labels,
// and these traffic policy fields, in trafficPolicy, in
// subsets.trafficPolicy, and per port in their portLevelSettings (with
// portLevelSettings.port):
//
//	loadBalancer.simple
//	loadBalancer.consistentHash.httpHeaderName
//	loadBalancer.consistentHash.httpCookie
//	loadBalancer.consistentHash.useSourceIp
//	loadBalancer.consistentHash.httpQueryParameterName
//	loadBalancer.consistentHash.ringHash
//	loadBalancer.consistentHash.maglev
//	connectionPool.tcp.maxConnections
//	connectionPool.tcp.connectTimeout
//	connectionPool.http.http1MaxPendingRequests
//	connectionPool.http.http2MaxRequests
//	connectionPool.http.maxRequestsPerConnection
//	connectionPool.http.maxRetries
//	connectionPool.http.idleTimeout
//	outlierDetection.consecutive5xxErrors
//	outlierDetection.consecutiveGatewayErrors
//	outlierDetection.consecutiveErrors (deprecated)
//	outlierDetection.interval
//	outlierDetection.baseEjectionTime
//	outlierDetection.maxEjectionPercent
//	outlierDetection.minHealthPercent
//
// Not yet: tls, loadBalancer.localityLbSetting, zoneAwareLbSetting, warmup,
// warmupDurationSecs, consistentHash.minimumRingSize (deprecated), tunnel,
// proxyProtocol, retryBudget, exportTo, workloadSelector,
// tcp.tcpKeepalive, tcp.maxConnectionDuration, tcp.idleTimeout,
// http.h2UpgradePolicy, http.useClientProtocol, http.maxConcurrentStreams,
// http.http2KeepAlive, outlierDetection.splitExternalLocalOriginErrors,
// consecutiveLocalOriginFailures and outlierDetectionHttpErrorCodes.
//
// # Use
//
//	errs, warnings := policies.ValidateVirtualService(vs, field.NewPath("spec"))
//	if len(errs) > 0 {
//		return errs.ToAggregate()
//	}
//	warnings = append(warnings, policies.UnsupportedVirtualService(vs, field.NewPath("spec"))...)
//
// # Analysis
//
// Analyze (analyze*.go) looks across a set of objects the way
// `istioctl analyze` does and returns Messages with Istio's codes and
// levels: IST0101 (a referenced host, subset or gateway is missing),
// IST0103 (a pod that should have the sidecar has none), IST0109 (two
// VirtualServices for one host), IST0118 (a port name that names no
// protocol), IST0173 (a subset that selects no pods), and more; each with
// the resource and a fix. `weftctl analyze` prints them.
//
// Of Weft, the package imports only api (the resource model and the
// injection rules); beyond that it depends on istio.io/api,
// k8s.io/apimachinery's field paths and google.golang.org/protobuf.
package policies
