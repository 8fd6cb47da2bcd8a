package policies

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
)

// The checks of pods, workloads, namespaces and services.

// subsetsSelectPods reports each subset of a DestinationRule that selects
// none of the backends of its host (IST0173): pods and templates matching
// the service's selector and the subset's labels, in the service's
// namespace, or a ServiceEntry's endpoints.
func (a *analysis) subsetsSelectPods(dr *api.DestinationRule, ref Ref, b *backend) {
	for i, s := range dr.Spec.GetSubsets() {
		matched := false
		switch {
		case b.selector != nil:
			sel := labels.Merge(b.selector, s.GetLabels()).AsSelector()
			for _, w := range a.ix.workloads {
				if w.serving && w.namespace == b.ref.Namespace && sel.Matches(a.ix.endpointLabels(w)) {
					matched = true
					break
				}
			}
		case len(b.endpointLabels) > 0:
			sel := labels.SelectorFromSet(s.GetLabels())
			for _, l := range b.endpointLabels {
				if sel.Matches(labels.Set(l)) {
					matched = true
					break
				}
			}
		default:
			continue // pods are not what this host resolves to
		}
		if !matched {
			a.report(DestinationRuleSubsetNotSelectPods, ref, fmt.Sprintf("spec.subsets[%d]", i), a.subsetFix(b, s.GetLabels()),
				"The Subset %s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).", s.GetName())
		}
	}
}

// subsetFix says which labels the pods of a backend do carry.
func (a *analysis) subsetFix(b *backend, subsetLabels map[string]string) string {
	if b.selector == nil {
		return fmt.Sprintf("change the subset's labels to match an endpoint of %s, or remove the subset", b.ref)
	}
	pods := a.ix.backendWorkloads(b)
	if len(pods) == 0 {
		return fmt.Sprintf("no pods of %s exist (selector %s): deploy them, or remove the subset", b.ref, labels.FormatLabels(b.selector))
	}
	var have []string
	for _, k := range sortedKeys(subsetLabels) {
		values := map[string]bool{}
		for _, w := range pods {
			if v, ok := a.ix.endpointLabels(w)[k]; ok {
				values[k+"="+v] = true
			}
		}
		if len(values) == 0 {
			have = append(have, "no label "+k)
			continue
		}
		have = append(have, strings.Join(sortedKeys(values), ", "))
	}
	return fmt.Sprintf("the pods of %s have %s: change the subset's labels (%s) to select some of them, deploy pods with those labels, or remove the subset",
		b.ref, strings.Join(have, "; "), labels.FormatLabels(subsetLabels))
}

// injection reports namespaces without an injection label (IST0102) and
// pods that should have the sidecar and do not (IST0103).
func (a *analysis) injection() {
	for _, ns := range a.ix.namespaces {
		if systemNamespaces[ns.Name] {
			continue
		}
		_, istio := ns.Labels[api.LabelIstioInjection]
		_, weft := ns.Labels[api.LabelWeftInjection]
		_, rev := ns.Labels[api.LabelIstioRevision]
		if istio || weft || rev {
			continue
		}
		a.report(NamespaceNotInjected, a.ix.ref(ns), "metadata.labels",
			fmt.Sprintf("apply the Namespace with metadata.labels {%s: %s} (or %s: %s) to inject the sidecar into its new pods, or with %s: disabled to say it needs none",
				api.LabelIstioInjection, api.InjectionEnabled, api.LabelWeftInjection, api.InjectionEnabled, api.LabelIstioInjection),
			"The namespace is not enabled for sidecar injection. Label it %s=%s (or %s=%s) to enable it, or %s=disabled to explicitly mark it as not needing injection.",
			api.LabelIstioInjection, api.InjectionEnabled, api.LabelWeftInjection, api.InjectionEnabled, api.LabelIstioInjection)
	}
	for _, w := range a.ix.workloads {
		if !w.isPod || systemNamespaces[w.namespace] {
			continue
		}
		if !api.SidecarWanted(w.annotations, w.labels, w.spec, a.ix.nsLabels[w.namespace]) || api.HasSidecar(w.spec) {
			continue
		}
		why := fmt.Sprintf("its namespace %s is labelled for injection", w.namespace)
		if inject, decided := api.PodInjectionChoice(w.annotations, w.labels); decided && inject {
			why = fmt.Sprintf("its annotation %s asks for the sidecar", api.AnnotationSidecarInject)
		}
		a.report(PodMissingProxy, w.ref, "spec.containers",
			fmt.Sprintf("%s, but sidecars are added when a pod is created: delete the pod so that its controller recreates it with the sidecar, or opt it out with the annotation %s: \"false\"",
				why, api.AnnotationSidecarInject),
			"The pod %s is missing the sidecar proxy (%s). This can often be resolved by restarting or redeploying the workload.",
			w.namespace+"/"+w.ref.Name, api.SidecarContainerName)
	}
}

// PortProtocol is the protocol the mesh gives a Service port, as Istio
// reads it: UDP for a UDP port; else from appProtocol, or else the port's
// name up to its first "-" ("http-web" → HTTP), case-insensitively: HTTP,
// HTTP2, HTTPS, GRPC, GRPC-Web, HTTP_PROXY, TCP, TLS, UDP, Mongo, MySQL,
// Redis; TCP for the well-known ports 25, 53, 3306 and 27017; "" when the
// port names no protocol (the proxy then has to guess).
func PortProtocol(p corev1.ServicePort) string {
	if p.Protocol == corev1.ProtocolUDP {
		return "UDP"
	}
	name := p.Name
	if p.AppProtocol != nil {
		name = *p.AppProtocol
		switch name {
		case "kubernetes.io/h2c":
			return "HTTP2"
		case "kubernetes.io/ws":
			return "HTTP"
		case "kubernetes.io/wss":
			return "HTTPS"
		}
	}
	if len(name) >= len("grpc-web") && strings.EqualFold(name[:len("grpc-web")], "grpc-web") {
		return "GRPC-Web"
	}
	if i := strings.IndexByte(name, '-'); i >= 0 {
		name = name[:i]
	}
	switch strings.ToLower(name) {
	case "tcp":
		return "TCP"
	case "udp":
		return "UDP"
	case "grpc":
		return "GRPC"
	case "http":
		return "HTTP"
	case "http_proxy":
		return "HTTP_PROXY"
	case "http2":
		return "HTTP2"
	case "https":
		return "HTTPS"
	case "tls":
		return "TLS"
	case "mongo":
		return "Mongo"
	case "redis":
		return "Redis"
	case "mysql":
		return "MySQL"
	}
	switch p.Port {
	case 25, 53, 3306, 27017:
		return "TCP"
	}
	return ""
}

// servicePorts reports Service ports whose name names no protocol (IST0118;
// IST0150 for ExternalName services, where "tcp" is wrong too).
func (a *analysis) servicePorts() {
	for _, s := range a.ix.services {
		if systemNamespaces[namespaceOf(s)] {
			continue
		}
		ref := a.ix.ref(s)
		for i, p := range s.Spec.Ports {
			proto := PortProtocol(p)
			path := fmt.Sprintf("spec.ports[%d].name", i)
			if s.Spec.Type == corev1.ServiceTypeExternalName {
				if proto == "" || p.Name == "tcp" {
					a.report(ExternalNameServiceTypeInvalidPortName, ref, path,
						"name the port after the protocol the external service speaks, e.g. http or tls (tcp prevents the proxy from forwarding it)",
						"Port name for ExternalName service is invalid. Proxy may prevent tcp named ports and unmatched traffic for ports serving TCP protocol from being forwarded correctly")
				}
				continue
			}
			if proto != "" {
				continue
			}
			a.report(PortNameIsNotUnderNamingConvention, ref, path,
				fmt.Sprintf("name the port <protocol>[-<suffix>] (http, http2, https, grpc, grpc-web, tcp, tls, udp, mongo, mysql or redis; e.g. http-%s) or set its appProtocol, so that the mesh knows its protocol: HTTP routing, retries and metrics need http, http2 or grpc",
					orValue(p.Name, "web")),
				"Port name %s (port: %d, targetPort: %s) doesn't follow the naming convention of Istio port.", p.Name, p.Port, p.TargetPort.String())
		}
	}
}

func orValue(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// proxyUID is the user the sidecar proxy runs as; traffic from it bypasses
// the proxy's redirection.
const proxyUID = 1337

// applicationUIDs reports pods and pod templates that run the application
// as the proxy's UID (IST0144). Pods and templates controlled by another
// workload are left to it, so a Deployment is reported once.
func (a *analysis) applicationUIDs() {
	fix := fmt.Sprintf("run the application as another user: traffic of UID %d is not redirected to the sidecar, so it bypasses the mesh", proxyUID)
	for _, w := range a.ix.workloads {
		if w.owned {
			continue
		}
		if sc := w.spec.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == proxyUID {
			a.report(InvalidApplicationUID, w.ref, w.specPath+".securityContext.runAsUser", fix,
				"User ID (UID) %d is reserved for the sidecar proxy.", proxyUID)
		}
		for i, c := range w.spec.Containers {
			if c.Name == api.SidecarContainerName || c.Name == api.IstioSidecarContainerName {
				continue
			}
			if sc := c.SecurityContext; sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == proxyUID {
				a.report(InvalidApplicationUID, w.ref, fmt.Sprintf("%s.containers[%d].securityContext.runAsUser", w.specPath, i), fix,
					"User ID (UID) %d is reserved for the sidecar proxy.", proxyUID)
			}
		}
	}
}
