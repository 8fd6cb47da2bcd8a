package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<name>.golden, or rewrites the file
// with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

func kind(t *testing.T, name string) *api.Kind {
	t.Helper()
	k := api.LookupName(name)
	if k == nil {
		t.Fatalf("no kind %q", name)
	}
	return k
}

func printed(t *testing.T, headers []string, rows [][]string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := PrintTable(&buf, headers, rows); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func objects[T api.Object](items ...T) []api.Object {
	out := make([]api.Object, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

// TestTableGolden prints each kind's table and compares it with a golden
// file; each golden was checked against kubectl's printers.
func TestTableGolden(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		objs     []api.Object
		opts     TableOptions
	}{
		{"pods", "pods", podFixtures(), TableOptions{}},
		{"pods-wide", "pods", podFixtures(), TableOptions{Wide: true}},
		{"pods-all-namespaces", "pods", podFixtures()[:3], TableOptions{AllNamespaces: true}},
		{"pods-show-labels", "pods", podFixtures()[:2], TableOptions{ShowLabels: true}},
		{"services", "services", serviceFixtures(), TableOptions{}},
		{"services-wide", "services", serviceFixtures(), TableOptions{Wide: true}},
		{"endpoints", "endpoints", objects(endpointsFixture()), TableOptions{}},
		{"deployments", "deployments", objects(deploymentFixture()), TableOptions{}},
		{"deployments-wide", "deployments", objects(deploymentFixture()), TableOptions{Wide: true}},
		{"replicasets", "rs", objects(replicaSetFixture("web-7d4b9c", "web", true)), TableOptions{Wide: true}},
		{"replicationcontrollers", "rc", objects(&corev1.ReplicationController{
			ObjectMeta: meta("legacy", 30*24*time.Hour),
			Spec:       corev1.ReplicationControllerSpec{Replicas: new(int32(2)), Selector: map[string]string{"app": "legacy"}},
			Status:     corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1},
		}), TableOptions{}},
		{"statefulsets", "sts", objects(&appsv1.StatefulSet{
			ObjectMeta: meta("db", 2*24*time.Hour+3*time.Hour),
			Spec:       appsv1.StatefulSetSpec{Replicas: new(int32(3)), Template: podTemplate("postgres", "postgres:16")},
			Status:     appsv1.StatefulSetStatus{ReadyReplicas: 2},
		}), TableOptions{}},
		{"daemonsets", "ds", objects(&appsv1.DaemonSet{
			ObjectMeta: meta("agent", 10*24*time.Hour),
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
				Template: withNodeSelector(podTemplate("agent", "weft/agent:0.3"), map[string]string{"kubernetes.io/os": "linux"}),
			},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2},
		}), TableOptions{Wide: true}},
		{"hpas", "hpa", hpaFixtures(), TableOptions{}},
		{"nodes", "nodes", nodeFixtures(), TableOptions{}},
		{"nodes-wide", "nodes", nodeFixtures(), TableOptions{Wide: true}},
		{"nodes-all-namespaces", "nodes", nodeFixtures()[:1], TableOptions{AllNamespaces: true}},
		{"namespaces", "ns", objects(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default", CreationTimestamp: ago(45 * 24 * time.Hour)}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}), TableOptions{}},
		{"configmaps", "cm", objects(&corev1.ConfigMap{ObjectMeta: meta("settings", 7*time.Hour), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}}), TableOptions{}},
		{"secrets", "secrets", objects(&corev1.Secret{ObjectMeta: meta("tls", 3*time.Minute+20*time.Second), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}}), TableOptions{}},
		{"serviceaccounts", "sa", objects(&corev1.ServiceAccount{ObjectMeta: meta("default", time.Hour)}), TableOptions{}},
		{"events", "events", eventFixtures(), TableOptions{}},
		{"events-wide", "events", eventFixtures(), TableOptions{Wide: true}},
		{"pvcs", "pvc", pvcFixtures(), TableOptions{}},
		{"pvs", "pv", objects(&corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pv-1", CreationTimestamp: ago(time.Hour)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity: resources("storage", "10Gi"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany},
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain, StorageClassName: "standard",
				ClaimRef: &corev1.ObjectReference{Namespace: "default", Name: "data"},
			},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound},
		}), TableOptions{}},
		{"jobs", "jobs", jobFixtures(), TableOptions{}},
		{"cronjobs", "cj", objects(&batchv1.CronJob{
			ObjectMeta: meta("nightly", 5*24*time.Hour),
			Spec:       batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: new(false)},
			Status:     batchv1.CronJobStatus{LastScheduleTime: agoPtr(9 * time.Hour), Active: []corev1.ObjectReference{{Name: "nightly-1"}}},
		}), TableOptions{}},
		{"ingresses", "ing", objects(&networkingv1.Ingress{
			ObjectMeta: meta("web", time.Hour),
			Spec: networkingv1.IngressSpec{
				IngressClassName: new("nginx"),
				Rules:            []networkingv1.IngressRule{{Host: "a.example.com"}, {Host: "b.example.com"}, {Host: "c.example.com"}, {Host: "d.example.com"}},
				TLS:              []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}},
			},
			Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "203.0.113.10"}}}},
		}), TableOptions{}},
		{"networkpolicies", "netpol", objects(
			&networkingv1.NetworkPolicy{ObjectMeta: meta("deny-all", time.Hour)},
			&networkingv1.NetworkPolicy{ObjectMeta: meta("web", time.Hour), Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}},
		), TableOptions{}},
		{"storageclasses", "sc", objects(&storagev1.StorageClass{
			ObjectMeta:           metav1.ObjectMeta{Name: "standard", CreationTimestamp: ago(time.Hour), Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
			Provisioner:          "rancher.io/local-path",
			VolumeBindingMode:    new(storagev1.VolumeBindingWaitForFirstConsumer),
			AllowVolumeExpansion: new(true),
		}), TableOptions{}},
		{"endpointslices", "endpointslices", objects(&discoveryv1.EndpointSlice{
			ObjectMeta:  meta("web-abcde", time.Hour),
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Port: new(int32(8080))}, {Name: new("metrics")}},
			Endpoints: []discoveryv1.Endpoint{
				{Addresses: []string{"10.244.0.5"}}, {Addresses: []string{"10.244.0.6"}},
				{Addresses: []string{"10.244.1.7"}}, {Addresses: []string{"10.244.1.8"}},
			},
		}), TableOptions{}},
		{"poddisruptionbudgets", "pdb", objects(&policyv1.PodDisruptionBudget{
			ObjectMeta: meta("web", time.Hour),
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: new(intstr.FromString("50%"))},
			Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1},
		}), TableOptions{}},
		{"roles", "roles", objects(&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader", Namespace: "default", CreationTimestamp: metav1.NewTime(time.Date(2025, 5, 30, 8, 0, 0, 0, time.UTC))}}), TableOptions{}},
		{"rolebindings-wide", "rolebindings", objects(&rbacv1.RoleBinding{
			ObjectMeta: meta("read-pods", time.Hour),
			RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "reader"},
			Subjects: []rbacv1.Subject{
				{Kind: rbacv1.UserKind, Name: "jane"}, {Kind: rbacv1.GroupKind, Name: "devs"},
				{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: "ci"},
			},
		}), TableOptions{Wide: true}},
		{"virtualservices", "vs", virtualServiceFixtures(), TableOptions{}},
		{"destinationrules", "dr", objects(destinationRuleFixture()), TableOptions{}},
		{"gateways", "gw", objects(&api.Gateway{ObjectMeta: meta("ingress", 2*time.Hour), Spec: &networking.Gateway{Selector: map[string]string{"istio": "ingressgateway"}}}), TableOptions{}},
		{"serviceentries", "se", objects(
			&api.ServiceEntry{ObjectMeta: meta("external-api", time.Hour), Spec: &networking.ServiceEntry{
				Hosts: []string{"api.example.com"}, Location: networking.ServiceEntry_MESH_EXTERNAL, Resolution: networking.ServiceEntry_DNS,
			}},
			&api.ServiceEntry{ObjectMeta: meta("internal", time.Hour), Spec: &networking.ServiceEntry{
				Hosts: []string{"db.internal", "cache.internal"}, Location: networking.ServiceEntry_MESH_INTERNAL, Resolution: networking.ServiceEntry_STATIC,
			}},
		), TableOptions{}},
		{"peerauthentications", "pa", objects(&api.PeerAuthentication{ObjectMeta: meta("default", time.Hour), Spec: &security.PeerAuthentication{
			Mtls: &security.PeerAuthentication_MutualTLS{Mode: security.PeerAuthentication_MutualTLS_STRICT},
		}}), TableOptions{}},
		{"authorizationpolicies", "ap", objects(&api.AuthorizationPolicy{ObjectMeta: meta("deny-admin", time.Hour), Spec: &security.AuthorizationPolicy{
			Action: security.AuthorizationPolicy_DENY,
		}}), TableOptions{AllNamespaces: true}},
		{"sidecars", "sidecars", objects(&api.Sidecar{ObjectMeta: meta("default", time.Hour), Spec: &networking.Sidecar{}}), TableOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Now = now
			headers, rows := Table(kind(t, tt.resource), tt.objs, tt.opts)
			golden(t, filepath.Join("table", tt.name), printed(t, headers, rows))
		})
	}
}

// TestTableCells checks cells whose format matters most, independently
// of the golden files.
func TestTableCells(t *testing.T) {
	cell := func(t *testing.T, resource string, obj api.Object, opts TableOptions, column string) string {
		t.Helper()
		opts.Now = now
		headers, rows := Table(kind(t, resource), []api.Object{obj}, opts)
		for i, h := range headers {
			if h == column {
				return rows[0][i]
			}
		}
		t.Fatalf("no column %q in %v", column, headers)
		return ""
	}
	svcs := serviceFixtures()
	hpas := hpaFixtures()
	vss := virtualServiceFixtures()
	tests := []struct {
		name, resource string
		obj            api.Object
		opts           TableOptions
		column, want   string
	}{
		{"node port", "svc", svcs[1], TableOptions{}, "PORT(S)", "80:30044/TCP,443:30443/TCP"},
		{"cluster ip ports", "svc", svcs[0], TableOptions{}, "PORT(S)", "80/TCP,9090/TCP"},
		{"no external ip", "svc", svcs[0], TableOptions{}, "EXTERNAL-IP", "<none>"},
		{"pending load balancer", "svc", svcs[2], TableOptions{}, "EXTERNAL-IP", "<pending>"},
		{"load balancer clipped", "svc", svcs[3], TableOptions{}, "EXTERNAL-IP", "a1b2c3d4e5f6a..."},
		{"load balancer wide", "svc", svcs[3], TableOptions{Wide: true}, "EXTERNAL-IP", "a1b2c3d4e5f6a7b8.elb.example.com"},
		{"headless", "svc", svcs[4], TableOptions{}, "CLUSTER-IP", "None"},
		{"external name", "svc", svcs[5], TableOptions{}, "EXTERNAL-IP", "db.example.com"},
		{"selector", "svc", svcs[0], TableOptions{Wide: true}, "SELECTOR", "app=web,tier=frontend"},
		{"deployment ready", "deploy", deploymentFixture(), TableOptions{}, "READY", "2/3"},
		{"hpa cpu", "hpa", hpas[0], TableOptions{}, "TARGETS", "cpu: 12%/30%"},
		{"hpa unknown", "hpa", hpas[1], TableOptions{}, "TARGETS", "cpu: <unknown>/30%"},
		{"hpa many", "hpa", hpas[2], TableOptions{}, "TARGETS", "memory: 100Mi/200Mi, cpu: 45%/60% + 1 more..."},
		{"hpa v1 converted", "hpa", hpas[3], TableOptions{}, "TARGETS", "cpu: 70%/80%"},
		{"hpa reference", "hpa", hpas[0], TableOptions{}, "REFERENCE", "Deployment/web"},
		{"endpoints more", "ep", endpointsFixture(), TableOptions{}, "ENDPOINTS", "10.244.0.5:8080,10.244.0.6:8080,10.244.1.7:8080 + 3 more..."},
		{"vs gateways", "vs", vss[0], TableOptions{}, "GATEWAYS", `["mesh"]`},
		{"vs hosts", "vs", vss[0], TableOptions{}, "HOSTS", `["reviews"]`},
		{"vs several hosts", "vs", vss[1], TableOptions{}, "HOSTS", `["bookinfo.example.com","*.bookinfo.example.com"]`},
		{"vs no gateways", "vs", vss[2], TableOptions{}, "GATEWAYS", ""},
		{"dr host", "dr", destinationRuleFixture(), TableOptions{}, "HOST", "reviews.default.svc.cluster.local"},
		{"se location left out is MESH_EXTERNAL", "se", &api.ServiceEntry{ObjectMeta: meta("e", time.Hour), Spec: &networking.ServiceEntry{Hosts: []string{"a.example.com"}}}, TableOptions{}, "LOCATION", "MESH_EXTERNAL"},
		{"se resolution left out is NONE", "se", &api.ServiceEntry{ObjectMeta: meta("e", time.Hour), Spec: &networking.ServiceEntry{Hosts: []string{"a.example.com"}}}, TableOptions{}, "RESOLUTION", "NONE"},
		{"pa without mtls", "pa", &api.PeerAuthentication{ObjectMeta: meta("p", time.Hour), Spec: &security.PeerAuthentication{}}, TableOptions{}, "MODE", ""},
		{"ap action left out is ALLOW", "ap", &api.AuthorizationPolicy{ObjectMeta: meta("a", time.Hour), Spec: &security.AuthorizationPolicy{}}, TableOptions{}, "ACTION", "ALLOW"},
		{"istio object without spec", "vs", &api.VirtualService{ObjectMeta: meta("v", time.Hour)}, TableOptions{}, "HOSTS", ""},
		{"age", "pods", makePod("p").age(2*24*time.Hour + 3*time.Hour).obj(), TableOptions{}, "AGE", "2d3h"},
		{"restart age", "pods", makePod("p").container("app", waiting("CrashLoopBackOff"), false, 5).lastTerminated(5 * time.Minute).obj(), TableOptions{}, "RESTARTS", "5 (5m ago)"},
		{"labels", "pods", podFixtures()[0], TableOptions{ShowLabels: true}, "LABELS", "app=web,pod-template-hash=7d4b9c"},
		{"no labels", "pods", makePod("p").obj(), TableOptions{ShowLabels: true}, "LABELS", "<none>"},
		{"namespace", "pods", podFixtures()[2], TableOptions{AllNamespaces: true}, "NAMESPACE", "kube-system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cell(t, tt.resource, tt.obj, tt.opts, tt.column); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.column, got, tt.want)
			}
		})
	}
}

// TestTableHeaders checks which columns each option adds.
func TestTableHeaders(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		opts     TableOptions
		want     string
	}{
		{"pods", "pods", TableOptions{}, "NAME READY STATUS RESTARTS AGE"},
		{"pods wide", "pods", TableOptions{Wide: true}, "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"},
		{"pods all namespaces", "pods", TableOptions{AllNamespaces: true}, "NAMESPACE NAME READY STATUS RESTARTS AGE"},
		{"pods labels", "pods", TableOptions{ShowLabels: true}, "NAME READY STATUS RESTARTS AGE LABELS"},
		{"cluster-scoped kind has no namespace column", "nodes", TableOptions{AllNamespaces: true}, "NAME STATUS ROLES AGE VERSION"},
		{"services wide", "svc", TableOptions{Wide: true}, "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR"},
		{"deployments wide", "deploy", TableOptions{Wide: true}, "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR"},
		{"replicasets", "rs", TableOptions{}, "NAME DESIRED CURRENT READY AGE"},
		{"statefulsets", "sts", TableOptions{}, "NAME READY AGE"},
		{"daemonsets", "ds", TableOptions{}, "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE"},
		{"hpa", "hpa", TableOptions{}, "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE"},
		{"nodes wide", "nodes", TableOptions{Wide: true}, "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"},
		{"events", "events", TableOptions{}, "LAST SEEN TYPE REASON OBJECT MESSAGE"},
		{"pvc", "pvc", TableOptions{}, "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE"},
		{"virtualservices", "vs", TableOptions{}, "NAME GATEWAYS HOSTS AGE"},
		{"destinationrules", "dr", TableOptions{}, "NAME HOST AGE"},
		{"gateways", "gw", TableOptions{}, "NAME AGE"},
		{"serviceentries", "se", TableOptions{}, "NAME HOSTS LOCATION RESOLUTION AGE"},
		{"roles", "roles", TableOptions{}, "NAME CREATED AT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers, rows := Table(kind(t, tt.resource), nil, tt.opts)
			if got := strings.Join(headers, " "); got != tt.want {
				t.Errorf("headers = %q, want %q", got, tt.want)
			}
			if len(rows) != 0 {
				t.Errorf("rows = %v, want none", rows)
			}
		})
	}
}

func TestTableKindFromObjects(t *testing.T) {
	headers, rows := Table(nil, objects(makePod("web").container("app", running(), true, 0).obj()), TableOptions{Now: now})
	if got, want := strings.Join(headers, " "), "NAME READY STATUS RESTARTS AGE"; got != want {
		t.Errorf("headers = %q, want %q", got, want)
	}
	if got, want := strings.Join(rows[0], " "), "web 1/1 Running 0 60m"; got != want {
		t.Errorf("row = %q, want %q", got, want)
	}
}

func TestPrintTable(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		rows    [][]string
		want    string
	}{
		{
			name:    "aligned with three spaces",
			headers: []string{"NAME", "READY", "STATUS"},
			rows:    [][]string{{"web-7d4b9c-x2x9q", "1/1", "Running"}, {"db-0", "0/1", "Pending"}},
			want: "NAME               READY   STATUS\n" +
				"web-7d4b9c-x2x9q   1/1     Running\n" +
				"db-0               0/1     Pending\n",
		},
		{
			name:    "headers upper-cased, short columns at least six wide",
			headers: []string{"name", "ip"},
			rows:    [][]string{{"a", "10.0.0.1"}},
			want:    "NAME   IP\na      10.0.0.1\n",
		},
		{
			name:    "a cell is cut at its first line break",
			headers: []string{"NAME", "MESSAGE"},
			rows:    [][]string{{"ev", "first line\nsecond line"}},
			want:    "NAME   MESSAGE\nev     first line...\n",
		},
		{
			name:    "escape characters are shown",
			headers: []string{"NAME"},
			rows:    [][]string{{"a\x1b[31m"}},
			want:    "NAME\na^[[31m\n",
		},
		{
			name:    "no rows",
			headers: []string{"NAME", "AGE"},
			want:    "NAME   AGE\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printed(t, tt.headers, tt.rows); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-5 * time.Second, "<invalid>"},
		{-time.Second, "0s"},
		{0, "0s"},
		{5 * time.Second, "5s"},
		{119 * time.Second, "119s"},
		{2 * time.Minute, "2m"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{10 * time.Minute, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{7 * time.Hour, "7h"},
		{7*time.Hour + 30*time.Minute, "7h30m"},
		{8*time.Hour + 30*time.Minute, "8h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{51 * time.Hour, "2d3h"},
		{8 * 24 * time.Hour, "8d"},
		{45 * 24 * time.Hour, "45d"},
		{729 * 24 * time.Hour, "729d"},
		{(2*365 + 30) * 24 * time.Hour, "2y30d"},
		{3 * 365 * 24 * time.Hour, "3y"},
		{10 * 365 * 24 * time.Hour, "10y"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := HumanDuration(tt.d); got != tt.want {
				t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
	if got := since(now, metav1.Time{}); got != "<unknown>" {
		t.Errorf("age of an unset time = %q, want <unknown>", got)
	}
}

// Fixtures shared by the table and describe tests.

func podFixtures() []api.Object {
	web := makePod("web-7d4b9c-x2x9q").ip("10.244.1.5").ownedBy("ReplicaSet", "web-7d4b9c").container("app", running(), true, 0).obj()
	web.Labels = map[string]string{"app": "web", "pod-template-hash": "7d4b9c"}
	crash := makePod("worker-5f6c-abcde").ip("10.244.2.9").node("node-2").container("worker", waiting("CrashLoopBackOff"), false, 7).lastTerminated(2 * time.Minute).obj()
	dns := makePod("coredns-66bff-lxz").age(45*24*time.Hour).ip("10.244.0.2").container("coredns", running(), true, 0).obj()
	dns.Namespace = "kube-system"
	initPod := makePod("migrate-db").age(30*time.Second).phase(corev1.PodPending).ip("").
		initContainer("wait-for-db", running(), false, true, false).container("app", waiting("PodInitializing"), false, 0).obj()
	done := makePod("backup-29123").age(3*time.Hour).phase(corev1.PodSucceeded).ip("10.244.2.4").container("backup", terminated("Completed", 0, 0), false, 0).obj()
	gated := makePod("gated").age(5*time.Second).phase(corev1.PodPending).node("").condition(corev1.PodScheduled, corev1.ConditionFalse, "SchedulingGated").specOnly("app").obj()
	gated.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb-ready"}}
	gated.Status.NominatedNodeName = "node-3"
	going := makePod("web-7d4b9c-old").deleting().ip("10.244.1.3").container("app", running(), true, 0).obj()
	return objects(web, crash, dns, initPod, done, gated, going)
}

func serviceFixtures() []api.Object {
	svc := func(name string, t corev1.ServiceType, ip string, ports ...corev1.ServicePort) *corev1.Service {
		s := &corev1.Service{ObjectMeta: meta(name, 5*24*time.Hour), Spec: corev1.ServiceSpec{Type: t, ClusterIP: ip, Ports: ports, SessionAffinity: corev1.ServiceAffinityNone}}
		if ip != "" {
			s.Spec.ClusterIPs = []string{ip}
		}
		return s
	}
	port := func(name string, p, target, node int32) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Port: p, TargetPort: intstr.FromInt32(target), NodePort: node, Protocol: corev1.ProtocolTCP}
	}
	web := svc("web", corev1.ServiceTypeClusterIP, "10.96.12.34", port("http", 80, 8080, 0), port("metrics", 9090, 9090, 0))
	web.Spec.Selector = map[string]string{"app": "web", "tier": "frontend"}
	np := svc("web-nodeport", corev1.ServiceTypeNodePort, "10.96.40.1", port("http", 80, 8080, 30044), port("https", 443, 8443, 30443))
	lbPending := svc("lb-pending", corev1.ServiceTypeLoadBalancer, "10.96.50.2", port("", 80, 80, 31000))
	lb := svc("lb", corev1.ServiceTypeLoadBalancer, "10.96.50.3", port("", 443, 8443, 31443))
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "a1b2c3d4e5f6a7b8.elb.example.com"}}
	headless := svc("db", corev1.ServiceTypeClusterIP, "None", port("pg", 5432, 5432, 0))
	external := svc("legacy-db", corev1.ServiceTypeExternalName, "")
	external.Spec.ExternalName = "db.example.com"
	extIPs := svc("with-external-ips", corev1.ServiceTypeClusterIP, "10.96.60.1", corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP})
	extIPs.Spec.ExternalIPs = []string{"198.51.100.7"}
	return objects(web, np, lbPending, lb, headless, external, extIPs)
}

func endpointsFixture() *corev1.Endpoints {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i] = corev1.EndpointAddress{IP: ip}
		}
		return out
	}
	return &corev1.Endpoints{
		ObjectMeta: meta("web", 5*24*time.Hour),
		Subsets: []corev1.EndpointSubset{{
			Addresses:         addrs("10.244.0.5", "10.244.0.6", "10.244.1.7"),
			NotReadyAddresses: addrs("10.244.2.8"),
			Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP}},
		}},
	}
}

func podTemplate(name, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: image}}},
	}
}

func withNodeSelector(t corev1.PodTemplateSpec, sel map[string]string) corev1.PodTemplateSpec {
	t.Spec.NodeSelector = sel
	return t
}

func deploymentFixture() *appsv1.Deployment {
	tmpl := podTemplate("web", "nginx:1.27")
	tmpl.Spec.Containers = append(tmpl.Spec.Containers, corev1.Container{Name: "istio-proxy", Image: "istio/proxyv2:1.24"})
	return &appsv1.Deployment{
		ObjectMeta: meta("web", 3*24*time.Hour),
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: tmpl,
		},
		Status: appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, UnavailableReplicas: 1},
	}
}

// replicaSetFixture is a replica set of deployment dep with its template,
// current or not.
func replicaSetFixture(name, dep string, current bool) *appsv1.ReplicaSet {
	tmpl := deploymentFixture().Spec.Template
	if !current {
		tmpl.Spec.Containers[0].Image = "nginx:1.25"
	}
	hash := strings.TrimPrefix(name, dep+"-")
	tmpl.Labels = map[string]string{"app": "web", "pod-template-hash": hash}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: meta(name, 3*24*time.Hour),
		Spec: appsv1.ReplicaSetSpec{
			Replicas: new(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "pod-template-hash": hash}},
			Template: tmpl,
		},
		Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 2},
	}
	if !current {
		rs.CreationTimestamp = ago(10 * 24 * time.Hour)
		rs.Spec.Replicas = new(int32(0))
		rs.Status = appsv1.ReplicaSetStatus{}
	}
	rs.OwnerReferences = controller("Deployment", dep)
	return rs
}

func hpaFixtures() []api.Object {
	cpu := func(target int32) autoscalingv2.MetricSpec {
		return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(target)},
		}}
	}
	cpuNow := func(current int32) autoscalingv2.MetricStatus {
		return autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(current), AverageValue: new(resource.MustParse("120m"))},
		}}
	}
	hpa := func(name string, metrics []autoscalingv2.MetricSpec, current []autoscalingv2.MetricStatus) *autoscalingv2.HorizontalPodAutoscaler {
		return &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: meta(name, 2*time.Hour),
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
				MinReplicas:    new(int32(2)), MaxReplicas: 10, Metrics: metrics,
			},
			Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 3, CurrentMetrics: current},
		}
	}
	memory := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("200Mi"))},
	}}
	memoryNow := autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
		Name: corev1.ResourceMemory, Current: autoscalingv2.MetricValueStatus{AverageValue: new(resource.MustParse("100Mi"))},
	}}
	pods := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "requests_per_second"},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: new(resource.MustParse("100"))},
	}}
	web := hpa("web", []autoscalingv2.MetricSpec{cpu(30)}, []autoscalingv2.MetricStatus{cpuNow(12)})
	starting := hpa("api", []autoscalingv2.MetricSpec{cpu(30)}, nil)
	many := hpa("mixed", []autoscalingv2.MetricSpec{memory, cpu(60), pods}, []autoscalingv2.MetricStatus{memoryNow, cpuNow(45)})
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: meta("legacy", time.Hour),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "legacy"},
			MaxReplicas:    4, TargetCPUUtilizationPercentage: new(int32(80)),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 1, CurrentCPUUtilizationPercentage: new(int32(70))},
	}
	return []api.Object{web, starting, many, v1}
}

func nodeFixtures() []api.Object {
	node := func(name string, age time.Duration, ready corev1.ConditionStatus, roles ...string) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: ago(age), Labels: map[string]string{"kubernetes.io/hostname": name}},
			Status: corev1.NodeStatus{
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: ready}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.33.1", OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0-31-amd64", ContainerRuntimeVersion: "containerd://1.7.24"},
			},
		}
		for _, r := range roles {
			n.Labels["node-role.kubernetes.io/"+r] = ""
		}
		return n
	}
	cp := node("cp-1", 120*24*time.Hour, corev1.ConditionTrue, "control-plane")
	cp.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}, {Type: corev1.NodeHostName, Address: "cp-1"}}
	worker := node("node-1", 30*24*time.Hour, corev1.ConditionTrue)
	worker.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.11"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.11"}}
	cordoned := node("node-2", 30*24*time.Hour, corev1.ConditionFalse)
	cordoned.Spec.Unschedulable = true
	cordoned.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: "v1.33.1"}
	fresh := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-3", CreationTimestamp: ago(20 * time.Second), Labels: map[string]string{"kubernetes.io/role": "edge"}}}
	return objects(cp, worker, cordoned, fresh)
}

func eventFixtures() []api.Object {
	ev := func(name, typ, reason, kind, obj, msg string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     meta(name, time.Hour),
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: obj, Namespace: "default"},
			Type:           typ, Reason: reason, Message: msg,
		}
	}
	scheduled := ev("web.1", corev1.EventTypeNormal, "Scheduled", "Pod", "web-7d4b9c-x2x9q", "Successfully assigned default/web-7d4b9c-x2x9q to node-1")
	scheduled.Source = corev1.EventSource{Component: "default-scheduler"}
	scheduled.FirstTimestamp, scheduled.LastTimestamp, scheduled.Count = ago(5*time.Minute), ago(5*time.Minute), 1
	backoff := ev("worker.2", corev1.EventTypeWarning, "BackOff", "Pod", "worker-5f6c-abcde", "Back-off restarting failed container worker in pod worker-5f6c-abcde\n")
	backoff.Source = corev1.EventSource{Component: "kubelet", Host: "node-2"}
	backoff.InvolvedObject.FieldPath = "spec.containers{worker}"
	backoff.FirstTimestamp, backoff.LastTimestamp, backoff.Count = ago(30*time.Minute), ago(20*time.Second), 42
	series := ev("web.3", corev1.EventTypeNormal, "ScalingReplicaSet", "Deployment", "web", "Scaled up replica set web-7d4b9c to 3 from 2")
	series.EventTime = metav1.NewMicroTime(now.Add(-2 * time.Hour))
	series.ReportingController = "deployment-controller"
	series.Series = &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-3 * time.Minute))}
	return objects(scheduled, backoff, series)
}

func pvcFixtures() []api.Object {
	bound := &corev1.PersistentVolumeClaim{
		ObjectMeta: meta("data", 2*time.Hour),
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: new("standard"), VolumeName: "pv-1",
			VolumeMode: new(corev1.PersistentVolumeFilesystem),
		},
		Status: corev1.PersistentVolumeClaimStatus{
			Phase: corev1.ClaimBound, Capacity: resources("storage", "10Gi"),
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		},
	}
	pending := &corev1.PersistentVolumeClaim{
		ObjectMeta: meta("scratch", 10*time.Second),
		Spec:       corev1.PersistentVolumeClaimSpec{StorageClassName: new("fast"), VolumeAttributesClassName: new("gold")},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	return objects(bound, pending)
}

func jobFixtures() []api.Object {
	done := &batchv1.Job{
		ObjectMeta: meta("backup-29123", 3*time.Hour),
		Spec:       batchv1.JobSpec{Completions: new(int32(1)), Template: podTemplate("backup", "backup:2")},
		Status: batchv1.JobStatus{
			Succeeded: 1, StartTime: agoPtr(3 * time.Hour), CompletionTime: agoPtr(3*time.Hour - 47*time.Second),
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}},
		},
	}
	running := &batchv1.Job{
		ObjectMeta: meta("reindex", 10*time.Minute),
		Spec:       batchv1.JobSpec{Parallelism: new(int32(4)), Template: podTemplate("reindex", "reindex:1")},
		Status:     batchv1.JobStatus{Active: 4, StartTime: agoPtr(10 * time.Minute)},
	}
	failed := &batchv1.Job{
		ObjectMeta: meta("migrate", time.Hour),
		Spec:       batchv1.JobSpec{Completions: new(int32(3)), Template: podTemplate("migrate", "migrate:1")},
		Status: batchv1.JobStatus{
			Succeeded: 1, Failed: 6, StartTime: agoPtr(time.Hour),
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}},
		},
	}
	return objects(done, running, failed)
}

func virtualServiceFixtures() []api.Object {
	reviews := &api.VirtualService{ObjectMeta: meta("reviews", 4*time.Hour), Spec: &networking.VirtualService{
		Hosts:    []string{"reviews"},
		Gateways: []string{"mesh"},
		Http: []*networking.HTTPRoute{{
			Route: []*networking.HTTPRouteDestination{{Destination: &networking.Destination{Host: "reviews", Subset: "v1"}}},
		}},
	}}
	bookinfo := &api.VirtualService{ObjectMeta: meta("bookinfo", 45*24*time.Hour), Spec: &networking.VirtualService{
		Hosts:    []string{"bookinfo.example.com", "*.bookinfo.example.com"},
		Gateways: []string{"bookinfo-gateway", "mesh"},
	}}
	ratings := &api.VirtualService{ObjectMeta: meta("ratings", 90*time.Second), Spec: &networking.VirtualService{Hosts: []string{"ratings"}}}
	return objects(reviews, bookinfo, ratings)
}

func destinationRuleFixture() *api.DestinationRule {
	return &api.DestinationRule{ObjectMeta: meta("reviews", 4*time.Hour), Spec: &networking.DestinationRule{
		Host: "reviews.default.svc.cluster.local",
		TrafficPolicy: &networking.TrafficPolicy{
			LoadBalancer: &networking.LoadBalancerSettings{LbPolicy: &networking.LoadBalancerSettings_Simple{Simple: networking.LoadBalancerSettings_LEAST_REQUEST}},
			ConnectionPool: &networking.ConnectionPoolSettings{
				Tcp: &networking.ConnectionPoolSettings_TCPSettings{MaxConnections: 100},
			},
		},
		Subsets: []*networking.Subset{
			{Name: "v1", Labels: map[string]string{"version": "v1"}},
			{Name: "v2", Labels: map[string]string{"version": "v2"}, TrafficPolicy: &networking.TrafficPolicy{
				LoadBalancer: &networking.LoadBalancerSettings{LbPolicy: &networking.LoadBalancerSettings_Simple{Simple: networking.LoadBalancerSettings_ROUND_ROBIN}},
			}},
		},
	}}
}
