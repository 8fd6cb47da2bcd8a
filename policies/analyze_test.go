package policies

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

// Fixture builders: Kubernetes objects in Go, Istio objects in YAML.

type podBuilder struct{ p *corev1.Pod }

func makePod(ns, name string) *podBuilder {
	return &podBuilder{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}}}}
}

func (b *podBuilder) labels(kv ...string) *podBuilder   { b.p.Labels = kvs(kv); return b }
func (b *podBuilder) annotate(kv ...string) *podBuilder { b.p.Annotations = kvs(kv); return b }
func (b *podBuilder) node(n string) *podBuilder         { b.p.Spec.NodeName = n; return b }
func (b *podBuilder) sidecar() *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: api.SidecarContainerName, Image: "weft/proxy"})
	return b
}
func (b *podBuilder) uid(u int64) *podBuilder {
	b.p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: &u}
	return b
}
func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.p.Status.Phase = p; return b }
func (b *podBuilder) obj() *corev1.Pod                    { return b.p }

type svcBuilder struct{ s *corev1.Service }

func makeService(ns, name string) *svcBuilder {
	return &svcBuilder{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}}
}

func (b *svcBuilder) selector(kv ...string) *svcBuilder { b.s.Spec.Selector = kvs(kv); return b }
func (b *svcBuilder) port(name string, port int32) *svcBuilder {
	b.s.Spec.Ports = append(b.s.Spec.Ports, corev1.ServicePort{Name: name, Port: port, TargetPort: intstr.FromInt32(port)})
	return b
}
func (b *svcBuilder) exportTo(v string) *svcBuilder {
	b.s.Annotations = map[string]string{annotationExportTo: v}
	return b
}
func (b *svcBuilder) externalName(host string) *svcBuilder {
	b.s.Spec.Type, b.s.Spec.ExternalName = corev1.ServiceTypeExternalName, host
	return b
}
func (b *svcBuilder) obj() *corev1.Service { return b.s }

func namespace(name string, kv ...string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: kvs(kv)}}
}

func node(name string, kv ...string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: kvs(kv)}}
}

func kvs(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// istio decodes Istio (or any) objects from YAML documents.
func istio(t *testing.T, docs string) []api.Object {
	t.Helper()
	decoded, err := api.DecodeReader("test.yaml", strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]api.Object, len(decoded))
	for i, d := range decoded {
		out[i] = d.Object
	}
	return out
}

func resources(objs ...[]api.Object) []Resource {
	var out []Resource
	for _, list := range objs {
		for _, o := range list {
			out = append(out, Resource{Object: o})
		}
	}
	return out
}

func list(objs ...api.Object) []api.Object { return objs }

// brief is a message as tests compare them: code and resource.
func brief(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Type.Code + " " + m.Resource.String()
	}
	return out
}

// The Bookinfo-like world most cases start from: reviews v1..v3 with a
// DestinationRule, and a sidecar everywhere in an injected namespace.
func world() []api.Object {
	objs := list(
		namespace("default", "istio-injection", "enabled"),
		makeService("default", "reviews").selector("app", "reviews").port("http", 9080).obj(),
	)
	for _, v := range []string{"v1", "v2", "v3"} {
		objs = append(objs, makePod("default", "reviews-"+v).labels("app", "reviews", "version", v).sidecar().obj())
	}
	return objs
}

const reviewsDR = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`

func vsTo(name, host, dest, subset string) string {
	s := fmt.Sprintf(`
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: %s, namespace: default}
spec:
  hosts: [%s]
  http:
  - route:
    - destination: {host: %s`, name, host, dest)
	if subset != "" {
		s += ", subset: " + subset
	}
	return s + "}\n"
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name string
		objs func(t *testing.T) []api.Object
		want []string // "CODE Kind ns/name"
		text string   // the full line of the first message, when given
		fix  string   // a phrase of the first message's fix
	}{
		{
			name: "clean",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v1"))...)
			},
		},
		{
			name: "subset no DestinationRule defines",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v4"))...)
			},
			want: []string{"IST0101 VirtualService default/reviews"},
			text: `Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v4"`,
			fix:  "or route to a subset it defines: v1, v2, v3",
		},
		{
			name: "subset of a host without DestinationRule",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, vsTo("reviews", "reviews", "reviews", "v1"))...)
			},
			want: []string{"IST0101 VirtualService default/reviews"},
			fix:  "no DestinationRule defines subsets for host reviews.default.svc.cluster.local",
		},
		{
			name: "subset found through the FQDN",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews.default.svc.cluster.local", "v2"))...)
			},
		},
		{
			name: "mirror to a missing subset",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+`
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: reviews, subset: v9}
`)...)
			},
			want: []string{"IST0101 VirtualService default/reviews"},
			text: `Error [IST0101] (VirtualService default/reviews) Referenced mirror+subset in destinationrule not found: "reviews+v9"`,
		},
		{
			name: "host with no service",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, vsTo("ratings", "ratings", "ratings", ""))...)
			},
			want: []string{"IST0101 VirtualService default/ratings"},
			text: `Error [IST0101] (VirtualService default/ratings) Referenced host not found: "ratings"`,
			fix:  "create Service ratings in namespace default",
		},
		{
			name: "short host of a service in another namespace",
			objs: func(t *testing.T) []api.Object {
				objs := append(world(), makeService("other", "ratings").selector("app", "ratings").port("http", 9080).obj())
				return append(objs, istio(t, vsTo("ratings", "ratings", "ratings", ""))...)
			},
			want: []string{"IST0101 VirtualService default/ratings"},
			fix:  "write its full name: ratings.other.svc.cluster.local",
		},
		{
			name: "service exported only to its namespace",
			objs: func(t *testing.T) []api.Object {
				objs := append(world(), makeService("other", "ratings").selector("app", "ratings").port("http", 9080).exportTo(".").obj())
				return append(objs, istio(t, vsTo("ratings", "ratings.other.svc.cluster.local", "ratings.other.svc.cluster.local", ""))...)
			},
			want: []string{"IST0101 VirtualService default/ratings"},
		},
		{
			name: "external host from a ServiceEntry",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin-ext, namespace: default}
spec:
  hosts: ["*.httpbin.org"]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
`+vsTo("ext", "www.httpbin.org", "www.httpbin.org", ""))...)
			},
		},
		{
			name: "port the service lacks",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: 8080}}
`)...)
			},
			want: []string{"IST0101 VirtualService default/reviews"},
			text: `Error [IST0101] (VirtualService default/reviews) Referenced host:port not found: "reviews:8080"`,
			fix:  "route to a port of Service default/reviews (9080)",
		},
		{
			name: "no port for a service with two",
			objs: func(t *testing.T) []api.Object {
				objs := list(namespace("default", "istio-injection", "enabled"),
					makeService("default", "web").selector("app", "web").port("http", 80).port("https", 443).obj(),
					makePod("default", "web").labels("app", "web").sidecar().obj())
				return append(objs, istio(t, vsTo("web", "web", "web", ""))...)
			},
			want: []string{"IST0112 VirtualService default/web"},
			text: `Error [IST0112] (VirtualService default/web) This VirtualService routes to a service "web" that exposes multiple ports [80 443]. Specifying a port in the destination is required to disambiguate.`,
		},
		{
			name: "two VirtualServices for one host",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+vsTo("reviews-a", "reviews", "reviews", "v1")+vsTo("reviews-b", "reviews.default.svc.cluster.local", "reviews", "v2"))...)
			},
			want: []string{"IST0109 VirtualService default/reviews-a", "IST0109 VirtualService default/reviews-b"},
			text: `Error [IST0109] (VirtualService default/reviews-a) The VirtualServices default/reviews-a,default/reviews-b associated with mesh gateway define the same host reviews.default.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.`,
		},
		{
			name: "one host in two namespaces' private scopes does not conflict",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+`
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [reviews.default.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: reviews.default.svc.cluster.local}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: other}
spec:
  hosts: [reviews.default.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: reviews.default.svc.cluster.local}}]}]
`)...)
			},
		},
		{
			name: "VirtualServices bound to a gateway do not conflict with the mesh's",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v1")+`
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-ingress, namespace: default}
spec:
  hosts: [reviews]
  gateways: [gw]
  http: [{route: [{destination: {host: reviews, subset: v1}}]}]
`)...)
			},
		},
		{
			name: "missing gateway, and a host its gateway does not serve",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*.example.com"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: default}
spec:
  hosts: [reviews.example.com, reviews.other.org]
  gateways: [gw]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: default}
spec:
  hosts: [reviews.example.com]
  gateways: [istio-system/nope]
  http: [{route: [{destination: {host: reviews}}]}]
`)...)
			},
			want: []string{"IST0132 VirtualService default/a", "IST0101 VirtualService default/b"},
			text: `Warning [IST0132] (VirtualService default/a) one or more host [reviews.other.org] defined in VirtualService default/a not found in Gateway default/gw.`,
		},
		{
			name: "subset that selects no pods",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v4, labels: {version: v4}}
`)...)
			},
			want: []string{"IST0173 DestinationRule default/reviews"},
			text: `Error [IST0173] (DestinationRule default/reviews) The Subset v4 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
			fix:  "have version=v1, version=v2, version=v3",
		},
		{
			name: "subset labels of another app's pods do not count",
			objs: func(t *testing.T) []api.Object {
				objs := append(world(), makePod("default", "ratings-v4").labels("app", "ratings", "version", "v4").sidecar().obj())
				return append(objs, istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v4, labels: {version: v4}}]
`)...)
			},
			want: []string{"IST0173 DestinationRule default/reviews"},
		},
		{
			name: "finished pods do not count",
			objs: func(t *testing.T) []api.Object {
				objs := list(namespace("default", "istio-injection", "enabled"),
					makeService("default", "job").selector("app", "job").port("http", 80).obj(),
					makePod("default", "job").labels("app", "job", "version", "v1").sidecar().phase(corev1.PodSucceeded).obj())
				return append(objs, istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: job, namespace: default}
spec:
  host: job
  subsets: [{name: v1, labels: {version: v1}}]
`)...)
			},
			want: []string{"IST0173 DestinationRule default/job"},
			fix:  "no pods of Service default/job exist",
		},
		{
			name: "subset selecting by node topology",
			objs: func(t *testing.T) []api.Object {
				objs := list(namespace("default", "istio-injection", "enabled"),
					node("n1", "topology.kubernetes.io/zone", "z1"),
					makeService("default", "web").selector("app", "web").port("http", 80).obj(),
					makePod("default", "web").labels("app", "web").node("n1").sidecar().obj())
				return append(objs, istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: default}
spec:
  host: web
  subsets:
  - {name: z1, labels: {topology.kubernetes.io/zone: z1}}
  - {name: n1, labels: {kubernetes.io/hostname: n1}}
  - {name: z2, labels: {topology.kubernetes.io/zone: z2}}
`)...)
			},
			want: []string{"IST0173 DestinationRule default/web"},
			text: `Error [IST0173] (DestinationRule default/web) The Subset z2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).`,
		},
		{
			name: "DestinationRule for an unknown host",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reveiws, namespace: default}
spec:
  host: reveiws
`)...)
			},
			want: []string{"IST0174 DestinationRule default/reveiws"},
			text: `Warning [IST0174] (DestinationRule default/reveiws) The host reveiws defined in the DestinationRule does not match any services in the mesh.`,
		},
		{
			name: "wildcard DestinationRule covering services",
			objs: func(t *testing.T) []api.Object {
				return append(world(), istio(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: all, namespace: default}
spec:
  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: none, namespace: default}
spec:
  host: "*.example.com"
`)...)
			},
			want: []string{"IST0174 DestinationRule default/none"},
		},
		{
			name: "pods without sidecar in an injected namespace",
			objs: func(t *testing.T) []api.Object {
				return append(world(),
					makePod("default", "bare").labels("app", "bare").obj(),
					makePod("default", "opted-out").annotate(api.AnnotationSidecarInject, "false").obj(),
					makePod("kube-system", "coredns").obj(),
				)
			},
			want: []string{"IST0103 Pod default/bare"},
			text: `Warning [IST0103] (Pod default/bare) The pod default/bare is missing the sidecar proxy (weft-proxy). This can often be resolved by restarting or redeploying the workload.`,
			fix:  "namespace default is labelled for injection",
		},
		{
			name: "pod asking for the sidecar without it",
			objs: func(t *testing.T) []api.Object {
				return list(namespace("plain", "weft-injection", "disabled"),
					makePod("plain", "a").annotate(api.AnnotationSidecarInject, "true").obj(),
					makePod("plain", "b").obj())
			},
			want: []string{"IST0103 Pod plain/a"},
			fix:  "its annotation sidecar.istio.io/inject asks for the sidecar",
		},
		{
			name: "namespace without injection label",
			objs: func(t *testing.T) []api.Object {
				return list(namespace("default"), namespace("kube-system"), namespace("off", "istio-injection", "disabled"))
			},
			want: []string{"IST0102 Namespace default"},
			text: `Info [IST0102] (Namespace default) The namespace is not enabled for sidecar injection. Label it istio-injection=enabled (or weft-injection=enabled) to enable it, or istio-injection=disabled to explicitly mark it as not needing injection.`,
		},
		{
			name: "port names",
			objs: func(t *testing.T) []api.Object {
				return list(namespace("default", "istio-injection", "enabled"),
					makeService("default", "a").selector("app", "a").port("http-web", 80).port("grpc-web-x", 81).port("TCP", 82).port("", 3306).obj(),
					makeService("default", "b").selector("app", "b").port("ssh", 22).port("", 8080).obj(),
					makeService("default", "c").externalName("example.com").port("tcp", 80).port("https", 443).obj(),
					makeService("kube-system", "d").port("dns", 5353).obj(),
				)
			},
			want: []string{"IST0150 Service default/c", "IST0118 Service default/b", "IST0118 Service default/b"},
			text: `Info [IST0118] (Service default/b) Port name ssh (port: 22, targetPort: 22) doesn't follow the naming convention of Istio port.`,
		},
		{
			name: "UID 1337",
			objs: func(t *testing.T) []api.Object {
				return append(world(), makePod("default", "root").uid(1337).sidecar().obj())
			},
			want: []string{"IST0144 Pod default/root"},
			text: `Warning [IST0144] (Pod default/root) User ID (UID) 1337 is reserved for the sidecar proxy.`,
		},
		{
			name: "schema errors and warnings of files",
			objs: func(t *testing.T) []api.Object {
				objs := istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v1"))
				vs := objs[1].(*api.VirtualService)
				vs.Spec.Http[0].Route[0].Weight = -1
				vs.Spec.Http = append(vs.Spec.Http, vs.Spec.Http[0])
				return append(world(), objs...)
			},
			// The second rule is the first one again: both have the bad weight.
			want: []string{"IST0106 VirtualService default/reviews", "IST0106 VirtualService default/reviews", "IST0133 VirtualService default/reviews"},
			text: `Error [IST0106] (VirtualService default/reviews) Schema validation error: spec.http[0].route[0].weight: Invalid value: -1: weight -1 < 0`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := Analyze(resources(tt.objs(t)))
			got := brief(msgs)
			want := tt.want
			if want == nil {
				want = []string{}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q\n%s", got, want, lines(msgs))
			}
			if tt.text != "" && msgs[0].String() != tt.text {
				t.Errorf("first message:\n got %s\nwant %s", msgs[0], tt.text)
			}
			if tt.fix != "" && !strings.Contains(msgs[0].Fix, tt.fix) {
				t.Errorf("fix %q does not say %q", msgs[0].Fix, tt.fix)
			}
			for _, m := range msgs {
				if m.Fix == "" || m.Text == "" || m.Type.Code == "" {
					t.Errorf("incomplete message %+v", m)
				}
			}
		})
	}
}

func lines(msgs []Message) string {
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s\n    fix: %s\n", m, m.Fix)
	}
	return b.String()
}

// Later resources replace earlier ones of the same kind, namespace and
// name, and messages name the file a resource came from.
func TestAnalyzeFilesOverrideCluster(t *testing.T) {
	cluster := istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v4"))
	file := istio(t, vsTo("reviews", "reviews", "reviews", "v1"))
	in := resources(world(), cluster)
	in = append(in, Resource{Object: file[0], Origin: "fix.yaml doc 1"})
	if msgs := Analyze(in); len(msgs) != 0 {
		t.Fatalf("the file's VirtualService did not replace the cluster's:\n%s", lines(msgs))
	}
	bad := istio(t, vsTo("reviews", "reviews", "reviews", "v5"))
	in = append(in, Resource{Object: bad[0], Origin: "bad.yaml doc 1"})
	msgs := Analyze(in)
	want := `Error [IST0101] (VirtualService default/reviews bad.yaml doc 1) Referenced host+subset in destinationrule not found: "reviews+v5"`
	if len(msgs) != 1 || msgs[0].String() != want {
		t.Fatalf("got\n%s\nwant %s", lines(msgs), want)
	}
}

// Objects without a namespace are in "default"; the input is not changed.
func TestAnalyzeDefaultNamespace(t *testing.T) {
	p := makePod("", "p").uid(1337).obj()
	msgs := Analyze([]Resource{{Object: p}})
	if got := brief(msgs); !slices.Equal(got, []string{"IST0144 Pod default/p"}) {
		t.Fatalf("got %q", got)
	}
	if p.Namespace != "" {
		t.Fatal("Analyze changed its input")
	}
}

// Templates of workloads count as pods for subsets, but not when scaled to
// zero; the workload, not its ReplicaSet or pods, is told about UID 1337.
func TestAnalyzeWorkloads(t *testing.T) {
	objs := istio(t, `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1, namespace: default}
spec:
  selector: {matchLabels: {app: web, version: v1}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      securityContext: {runAsUser: 1337}
      containers: [{name: web, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v2, namespace: default}
spec:
  replicas: 0
  selector: {matchLabels: {app: web, version: v2}}
  template:
    metadata: {labels: {app: web, version: v2}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-v1-abc
  namespace: default
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web-v1, uid: u1, controller: true}]
spec:
  selector: {matchLabels: {app: web, version: v1}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      securityContext: {runAsUser: 1337}
      containers: [{name: web, image: nginx}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: default}
spec:
  host: web
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`)
	got := brief(Analyze(resources(objs)))
	want := []string{"IST0144 Deployment default/web-v1", "IST0173 DestinationRule default/web"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMessageJSON(t *testing.T) {
	msgs := Analyze(resources(append(world(), istio(t, reviewsDR+vsTo("reviews", "reviews", "reviews", "v4"))...)))
	b, err := json.Marshal(msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"code": "IST0101", "level": "Error", "type": "ReferencedResourceNotFound", "origin": "VirtualService default/reviews",
		"field": "spec.http[0].route[0].destination.subset", "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0101/",
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %q (%s)", k, got[k], v, b)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{LevelInfo, LevelWarning, LevelError} {
		got, err := ParseLevel(strings.ToLower(l.String()))
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l, got, err)
		}
	}
	if _, err := ParseLevel("fatal"); err == nil {
		t.Error("ParseLevel accepted fatal")
	}
}

func TestPortProtocol(t *testing.T) {
	h2c := "kubernetes.io/h2c"
	tests := []struct {
		port corev1.ServicePort
		want string
	}{
		{corev1.ServicePort{Name: "http"}, "HTTP"},
		{corev1.ServicePort{Name: "HTTP2-x"}, "HTTP2"},
		{corev1.ServicePort{Name: "grpc-web"}, "GRPC-Web"},
		{corev1.ServicePort{Name: "grpc-x"}, "GRPC"},
		{corev1.ServicePort{Name: "web"}, ""},
		{corev1.ServicePort{Name: "", Port: 3306}, "TCP"},
		{corev1.ServicePort{Name: "dns", Protocol: corev1.ProtocolUDP}, "UDP"},
		{corev1.ServicePort{Name: "web", AppProtocol: &h2c}, "HTTP2"},
	}
	for _, tt := range tests {
		if got := PortProtocol(tt.port); got != tt.want {
			t.Errorf("PortProtocol(%+v) = %q, want %q", tt.port, got, tt.want)
		}
	}
}

func TestHostFQDN(t *testing.T) {
	for _, tt := range [][3]string{
		{"default", "reviews", "reviews.default.svc.cluster.local"},
		{"default", "reviews.other.svc.cluster.local", "reviews.other.svc.cluster.local"},
		{"default", "*.local", "*.local"},
		{"default", "httpbin.org", "httpbin.org"},
	} {
		if got := HostFQDN(tt[0], tt[1]); got != tt[2] {
			t.Errorf("HostFQDN(%q, %q) = %q, want %q", tt[0], tt[1], got, tt[2])
		}
	}
}
