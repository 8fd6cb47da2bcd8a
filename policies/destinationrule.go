package policies

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	// maglevTableSizeLimit is the first table size Envoy refuses.
	maglevTableSizeLimit = 5000011
	// maxPortLevelSettings is the CRD's limit on portLevelSettings entries.
	maxPortLevelSettings = 4096
)

// ValidateDestinationRule validates a DestinationRule spec the way Istio's
// webhook does (plus the value checks of its CRD schema that survive
// decoding). Paths are rooted at fldPath, e.g.
// spec.trafficPolicy.connectionPool.tcp.maxConnections. Every problem of the
// spec is reported. Warnings do not reject the spec; each starts with the
// path it is about.
func ValidateDestinationRule(dr *networking.DestinationRule, fldPath *field.Path) (field.ErrorList, []string) {
	var f findings
	if dr == nil {
		f.add(field.Required(fldPath, "destination rule spec is required"))
		return f.errs, f.warnings
	}
	v := drValidator{findings: &f}
	if dr.GetHost() == "" {
		v.add(field.Required(fldPath.Child("host"), "empty domain name not allowed"))
	} else {
		v.add(invalidErr(fldPath.Child("host"), dr.GetHost(), checkWildcardDomain(dr.GetHost())))
	}
	v.trafficPolicy(dr.GetTrafficPolicy(), fldPath.Child("trafficPolicy"))

	seen := map[string]bool{}
	for i, s := range dr.GetSubsets() {
		sp := fldPath.Child("subsets").Index(i)
		if s == nil {
			v.add(field.Required(sp, "subset may not be null"))
			continue
		}
		if seen[s.GetName()] {
			v.add(duplicate(sp.Child("name"), s.GetName(), "duplicate subset names: %s", s.GetName()))
		}
		seen[s.GetName()] = true
		v.add(invalidErr(sp.Child("name"), s.GetName(), checkSubsetName(s.GetName())))
		v.addList(validateLabels(s.GetLabels(), sp.Child("labels")))
		v.trafficPolicy(s.GetTrafficPolicy(), sp.Child("trafficPolicy"))
	}

	v.addList(validateExportTo(dr.GetExportTo(), dr.GetWorkloadSelector() != nil, fldPath.Child("exportTo")))
	if ws := dr.GetWorkloadSelector(); ws != nil {
		lp := fldPath.Child("workloadSelector", "matchLabels")
		for _, k := range sortedKeys(ws.GetMatchLabels()) {
			val := ws.GetMatchLabels()[k]
			if k == "" {
				v.add(invalid(lp.Key(k), k, "empty key is not supported in selector: %q", k+"="+val))
			}
			if strings.Contains(k, "*") || strings.Contains(val, "*") {
				v.add(invalid(lp.Key(k), val, "wildcard is not supported in selector: %q", k+"="+val))
			}
		}
	}
	return f.errs, f.warnings
}

// drValidator holds what the checks of one DestinationRule share.
type drValidator struct {
	*findings
}

func (v *drValidator) trafficPolicy(tp *networking.TrafficPolicy, p *field.Path) {
	if tp == nil {
		return
	}
	if proto.Size(tp) == 0 {
		v.add(field.Required(p, "traffic policy must have at least one field"))
		return
	}
	if tp.GetTunnel() != nil && tp.GetProxyProtocol() != nil {
		v.add(field.Forbidden(p.Child("proxyProtocol"), "tunnel and proxyProtocol must not be specified at the same time"))
	}
	v.outlierDetection(tp.GetOutlierDetection(), p.Child("outlierDetection"))
	v.connectionPool(tp.GetConnectionPool(), p.Child("connectionPool"))
	v.loadBalancer(tp.GetLoadBalancer(), tp.GetOutlierDetection(), p.Child("loadBalancer"))
	v.clientTLS(tp.GetTls(), p.Child("tls"))
	v.portLevelSettings(tp.GetPortLevelSettings(), p.Child("portLevelSettings"))
	v.tunnel(tp.GetTunnel(), p.Child("tunnel"))
	if rb := tp.GetRetryBudget(); rb != nil && rb.GetPercent() != nil {
		if pct := rb.GetPercent().GetValue(); pct < 0 || pct > 100 {
			v.add(invalid(p.Child("retryBudget", "percent"), pct, "percent must be in range 0..100"))
		}
	}
}

func (v *drValidator) portLevelSettings(pls []*networking.TrafficPolicy_PortTrafficPolicy, p *field.Path) {
	if len(pls) > maxPortLevelSettings {
		v.add(field.TooMany(p, len(pls), maxPortLevelSettings))
	}
	for i, pl := range pls {
		pp := p.Index(i)
		if pl == nil {
			v.add(field.Required(pp, "traffic policy may not be null"))
			continue
		}
		if pl.GetPort() == nil {
			v.add(field.Required(pp.Child("port"), "portTrafficPolicy must have valid port"))
		}
		if pl.GetOutlierDetection() == nil && pl.GetConnectionPool() == nil && pl.GetLoadBalancer() == nil && pl.GetTls() == nil {
			v.add(field.Required(pp, "port traffic policy must have at least one field"))
			continue
		}
		v.outlierDetection(pl.GetOutlierDetection(), pp.Child("outlierDetection"))
		v.connectionPool(pl.GetConnectionPool(), pp.Child("connectionPool"))
		v.loadBalancer(pl.GetLoadBalancer(), pl.GetOutlierDetection(), pp.Child("loadBalancer"))
		v.clientTLS(pl.GetTls(), pp.Child("tls"))
	}
}

func (v *drValidator) outlierDetection(od *networking.OutlierDetection, p *field.Path) {
	if od == nil {
		return
	}
	v.add(validateDuration(od.GetBaseEjectionTime(), p.Child("baseEjectionTime")))
	//nolint:staticcheck // consecutiveErrors is deprecated but still accepted.
	if od.GetConsecutiveErrors() != 0 {
		v.warn(p.Child("consecutiveErrors"), "outlier detection consecutive errors is deprecated, use consecutiveGatewayErrors or consecutive5xxErrors instead")
	}
	if !od.GetSplitExternalLocalOriginErrors() && od.GetConsecutiveLocalOriginFailures().GetValue() > 0 {
		v.add(field.Forbidden(p.Child("consecutiveLocalOriginFailures"),
			"outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false"))
	}
	v.add(validateDuration(od.GetInterval(), p.Child("interval")))
	v.add(validateIntPercent(od.GetMaxEjectionPercent(), p.Child("maxEjectionPercent")))
	v.add(validateIntPercent(od.GetMinHealthPercent(), p.Child("minHealthPercent")))
	for i, code := range od.GetOutlierDetectionHttpErrorCodes() {
		if code < 100 || code > 599 {
			v.add(invalid(p.Child("outlierDetectionHttpErrorCodes").Index(i), int64(code), "HTTP status %d is not in range 100-599", code))
		}
	}
}

func (v *drValidator) connectionPool(cp *networking.ConnectionPoolSettings, p *field.Path) {
	if cp == nil {
		return
	}
	if cp.GetHttp() == nil && cp.GetTcp() == nil {
		v.add(field.Required(p, "connection pool must have at least one field"))
		return
	}
	nonNegative := func(n int32, p *field.Path, what string) {
		if n < 0 {
			v.add(field.Invalid(p, n, what+" must be non-negative"))
		}
	}
	if h := cp.GetHttp(); h != nil {
		hp := p.Child("http")
		nonNegative(h.GetHttp1MaxPendingRequests(), hp.Child("http1MaxPendingRequests"), "http1 max pending requests")
		nonNegative(h.GetHttp2MaxRequests(), hp.Child("http2MaxRequests"), "http2 max requests")
		nonNegative(h.GetMaxRequestsPerConnection(), hp.Child("maxRequestsPerConnection"), "max requests per connection")
		nonNegative(h.GetMaxRetries(), hp.Child("maxRetries"), "max retries")
		nonNegative(h.GetMaxConcurrentStreams(), hp.Child("maxConcurrentStreams"), "max concurrent streams")
		v.add(validateDuration(h.GetIdleTimeout(), hp.Child("idleTimeout")))
		if h.GetH2UpgradePolicy() == networking.ConnectionPoolSettings_HTTPSettings_UPGRADE && h.GetUseClientProtocol() {
			v.add(field.Forbidden(hp.Child("useClientProtocol"), "use client protocol must not be true when H2UpgradePolicy is UPGRADE"))
		}
		if ka := h.GetHttp2KeepAlive(); ka != nil {
			kp := hp.Child("http2KeepAlive")
			if ka.GetInterval() == nil {
				v.add(field.Required(kp.Child("interval"), "interval is required when http2KeepAlive is set"))
			}
			if ka.GetTimeout() == nil {
				v.add(field.Required(kp.Child("timeout"), "timeout is required when http2KeepAlive is set"))
			}
			v.add(validateDuration(ka.GetInterval(), kp.Child("interval")))
			v.add(validateDuration(ka.GetTimeout(), kp.Child("timeout")))
		}
	}
	if t := cp.GetTcp(); t != nil {
		tp := p.Child("tcp")
		nonNegative(t.GetMaxConnections(), tp.Child("maxConnections"), "max connections")
		v.add(validateDuration(t.GetConnectTimeout(), tp.Child("connectTimeout")))
		v.add(validateDuration(t.GetMaxConnectionDuration(), tp.Child("maxConnectionDuration")))
		// An idle timeout of 0s is allowed: it disables the timeout.
		if it := t.GetIdleTimeout(); it != nil && !(it.GetSeconds() == 0 && it.GetNanos() == 0) {
			v.add(validateDuration(it, tp.Child("idleTimeout")))
		}
		if ka := t.GetTcpKeepalive(); ka != nil {
			v.add(validateDuration(ka.GetTime(), tp.Child("tcpKeepalive", "time")))
			v.add(validateDuration(ka.GetInterval(), tp.Child("tcpKeepalive", "interval")))
		}
	}
}

func (v *drValidator) loadBalancer(lb *networking.LoadBalancerSettings, od *networking.OutlierDetection, p *field.Path) {
	if lb == nil {
		return
	}
	if ch := lb.GetConsistentHash(); ch != nil {
		cp := p.Child("consistentHash")
		if c := ch.GetHttpCookie(); c != nil {
			v.httpCookie(c, cp.Child("httpCookie"))
		}
		//nolint:staticcheck // minimumRingSize is deprecated but still accepted.
		if ch.GetMinimumRingSize() != 0 && ch.GetHashAlgorithm() != nil {
			v.add(field.Forbidden(cp.Child("minimumRingSize"), "only one of MinimumRingSize or Maglev/Ringhash can be specified"))
		}
		if ml := ch.GetMaglev(); ml != nil {
			tp := cp.Child("maglev", "tableSize")
			switch size := ml.GetTableSize(); {
			case size == 0:
				v.add(field.Required(tp, "tableSize must be set for maglev"))
			case size >= maglevTableSizeLimit:
				v.add(invalid(tp, size, "tableSize must be less than %d for maglev", maglevTableSizeLimit))
			case !isPrime(size):
				v.add(field.Invalid(tp, size, "tableSize must be a prime number for maglev"))
			}
		}
	}
	v.localityLbSetting(lb.GetLocalityLbSetting(), od, p.Child("localityLbSetting"))
	if zs := lb.GetZoneAwareLbSetting(); zs != nil && zs.GetMinClusterSize() != nil && zs.GetMinClusterSize().GetValue() < 1 {
		v.add(field.Invalid(p.Child("zoneAwareLbSetting", "minClusterSize"), int64(zs.GetMinClusterSize().GetValue()), "minClusterSize must be at least 1"))
	}
	v.warmup(lb, p)
}

func (v *drValidator) httpCookie(c *networking.LoadBalancerSettings_ConsistentHashLB_HTTPCookie, p *field.Path) {
	if c.GetName() == "" {
		v.add(field.Required(p.Child("name"), "name required for HttpCookie"))
	}
	seen := map[string]bool{}
	for i, a := range c.GetAttributes() {
		ap := p.Child("attributes").Index(i).Child("name")
		switch {
		case a.GetName() == "":
			v.add(field.Required(ap, "cookie attribute name cannot be empty"))
		case seen[a.GetName()]:
			v.add(duplicate(ap, a.GetName(), "cookie attribute name %s is duplicated", a.GetName()))
		}
		seen[a.GetName()] = true
	}
}

func (v *drValidator) warmup(lb *networking.LoadBalancerSettings, p *field.Path) {
	//nolint:staticcheck // warmupDurationSecs is deprecated but still accepted.
	wds := lb.GetWarmupDurationSecs()
	w := lb.GetWarmup()
	if wds != nil && w != nil {
		v.add(field.Forbidden(p.Child("warmup"), "only one of warmupDurationSecs or warmup can be set"))
	}
	v.add(validateDuration(wds, p.Child("warmupDurationSecs")))
	if w == nil {
		return
	}
	wp := p.Child("warmup")
	if w.GetDuration() == nil {
		v.add(field.Required(wp.Child("duration"), "warmup duration is required"))
	}
	v.add(validateDuration(w.GetDuration(), wp.Child("duration")))
	if mp := w.GetMinimumPercent(); mp != nil && (mp.GetValue() < 0 || mp.GetValue() > 100) {
		v.add(field.Invalid(wp.Child("minimumPercent"), mp.GetValue(), "minimumPercent must be in range 0..100"))
	}
	if a := w.GetAggression(); a != nil && !(a.GetValue() > 0) {
		v.add(field.Invalid(wp.Child("aggression"), a.GetValue(), "aggression must be greater than 0"))
	}
}

// isPrime reports whether n is prime; n is below maglevTableSizeLimit.
func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// clientTLS checks the TLS settings for connections to the destination.
func (v *drValidator) clientTLS(t *networking.ClientTLSSettings, p *field.Path) {
	if t == nil {
		return
	}
	simple := t.GetMode() == networking.ClientTLSSettings_SIMPLE
	mutual := t.GetMode() == networking.ClientTLSSettings_MUTUAL
	if t.GetInsecureSkipVerify().GetValue() {
		if simple && (t.GetCaCertificates() != "" || t.GetCredentialName() != "" || len(t.GetSubjectAltNames()) > 0) {
			v.add(field.Forbidden(p.Child("insecureSkipVerify"),
				"cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true"))
		}
		if mutual && (t.GetCaCertificates() != "" || len(t.GetSubjectAltNames()) > 0) {
			v.add(field.Forbidden(p.Child("insecureSkipVerify"),
				"cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true"))
		}
	}
	if (simple || mutual) && t.GetCredentialName() != "" {
		if t.GetClientCertificate() != "" || t.GetCaCertificates() != "" || t.GetPrivateKey() != "" || t.GetCaCrl() != "" {
			v.add(field.Forbidden(p.Child("credentialName"),
				"cannot specify client certificates or CA certificate or CA CRL If credentialName is set"))
		}
		// The credentials come from the named secret.
		return
	}
	if mutual {
		if t.GetClientCertificate() == "" {
			v.add(field.Required(p.Child("clientCertificate"), "client certificate required for mutual tls"))
		}
		if t.GetPrivateKey() == "" {
			v.add(field.Required(p.Child("privateKey"), "private key required for mutual tls"))
		}
	}
}

func (v *drValidator) tunnel(t *networking.TrafficPolicy_TunnelSettings, p *field.Path) {
	if t == nil {
		return
	}
	if protocol := t.GetProtocol(); protocol != "" && protocol != "CONNECT" && protocol != "POST" {
		v.add(field.NotSupported(p.Child("protocol"), protocol, []string{"CONNECT", "POST"}))
	}
	if host := t.GetTargetHost(); checkFQDN(host) != nil && !isIPAddress(host) {
		v.add(field.Invalid(p.Child("targetHost"), host,
			fmt.Sprintf("tunnel target host must be valid FQDN or IP address: %v", checkFQDN(host))))
	}
	v.add(validatePort(t.GetTargetPort(), p.Child("targetPort")))
}
