package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

const corpusDir = "../testdata/corpus"

// corpusDoc is one Kubernetes document of the corpus, decoded.
type corpusDoc struct {
	where string // file#index (apiVersion kind/name)
	file  string // relative to the corpus
	obj   runtime.Object
}

// newTypedObject returns an empty object for the Kubernetes kinds this
// package validates, nil for others (Istio kinds, PodDisruptionBudget...).
func newTypedObject(apiVersion, kind string) runtime.Object {
	switch apiVersion + "/" + kind {
	case "v1/Pod":
		return &corev1.Pod{}
	case "v1/Service":
		return &corev1.Service{}
	case "v1/Endpoints":
		return &corev1.Endpoints{}
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}
	case "v1/Secret":
		return &corev1.Secret{}
	case "v1/Namespace":
		return &corev1.Namespace{}
	case "v1/Node":
		return &corev1.Node{}
	case "v1/Event":
		return &corev1.Event{}
	case "v1/ReplicationController":
		return &corev1.ReplicationController{}
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}
	case "v1/PersistentVolume":
		return &corev1.PersistentVolume{}
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}
	case "apps/v1/ReplicaSet":
		return &appsv1.ReplicaSet{}
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}
	case "apps/v1/DaemonSet":
		return &appsv1.DaemonSet{}
	case "autoscaling/v1/HorizontalPodAutoscaler":
		return &autoscalingv1.HorizontalPodAutoscaler{}
	case "autoscaling/v2/HorizontalPodAutoscaler":
		return &autoscalingv2.HorizontalPodAutoscaler{}
	case "storage.k8s.io/v1/StorageClass":
		return &storagev1.StorageClass{}
	case "discovery.k8s.io/v1/EndpointSlice":
		return &discoveryv1.EndpointSlice{}
	case "batch/v1/Job":
		return &batchv1.Job{}
	case "batch/v1/CronJob":
		return &batchv1.CronJob{}
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}
	case "networking.k8s.io/v1/Ingress":
		return &networkingv1.Ingress{}
	}
	return nil
}

// loadCorpus decodes every Kubernetes document of every YAML file under the
// corpus: multi-document files, empty documents and comments included.
func loadCorpus(t testing.TB) []corpusDoc {
	t.Helper()
	docs, err := readCorpus()
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func readCorpus() ([]corpusDoc, error) {
	var docs []corpusDoc
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(corpusDir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for i := 0; ; i++ {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				return fmt.Errorf("%s#%d: %w", rel, i, err)
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if string(js) == "null" || json.Unmarshal(js, &head) != nil || head.Kind == "" {
				continue // empty or comment-only document
			}
			obj := newTypedObject(head.APIVersion, head.Kind)
			if obj == nil {
				continue
			}
			if err := json.Unmarshal(js, obj); err != nil {
				return fmt.Errorf("%s#%d: decode %s: %w", rel, i, head.Kind, err)
			}
			docs = append(docs, corpusDoc{
				where: rel + "#" + strconv.Itoa(i) + " (" + head.APIVersion + " " + head.Kind + "/" + head.Metadata.Name + ")",
				file:  filepath.ToSlash(rel),
				obj:   obj,
			})
		}
		return nil
	})
	return docs, err
}

// TestCorpus defaults and validates every Kubernetes document of the corpus:
// all are valid but the seed Service without a port.
func TestCorpus(t *testing.T) {
	docs := loadCorpus(t)
	if len(docs) < 50 {
		t.Fatalf("found only %d Kubernetes documents in %s", len(docs), corpusDir)
	}
	for _, d := range docs {
		t.Run(d.where, func(t *testing.T) {
			obj := d.obj
			if v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
				// As the API server does: v1 is converted to v2 first.
				v1errs, _ := Validate(v1)
				if len(v1errs) > 0 {
					t.Errorf("autoscaling/v1 form: %v", v1errs)
				}
				obj = HPAv1ToV2(v1)
			}
			Default(obj)
			errs, warns := Validate(obj)
			for _, w := range warns {
				t.Logf("warning: %s", w)
			}
			_, isService := obj.(*corev1.Service)
			if d.file == "seeds/03-test-web-lb.yaml" && isService {
				if len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired || errs[0].Field != "spec.ports[0].port" {
					t.Fatalf("want exactly spec.ports[0].port: Required value, got %v", errs)
				}
				if got := errs[0].Error(); got != "spec.ports[0].port: Required value" {
					t.Errorf("error reads %q", got)
				}
				return
			}
			if len(errs) > 0 {
				t.Errorf("unexpected errors:\n%s", errorLines(errs))
			}
		})
	}
}

func errorLines(errs field.ErrorList) string {
	var lines []string
	for _, e := range errs {
		lines = append(lines, "  "+e.Error())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Fixtures: small valid objects, changed by the case under test.

type podBuilder struct{ p *corev1.Pod }

func makePod() podBuilder {
	return podBuilder{&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.25"}}},
	}}
}

func (b podBuilder) name(n string) podBuilder { b.p.Name = n; return b }

// spec changes the pod spec.
func (b podBuilder) spec(f func(*corev1.PodSpec)) podBuilder { f(&b.p.Spec); return b }

// ctr changes the first container.
func (b podBuilder) ctr(f func(*corev1.Container)) podBuilder { f(&b.p.Spec.Containers[0]); return b }

func (b podBuilder) with(f func(*corev1.Pod)) podBuilder { f(b.p); return b }

func (b podBuilder) obj() *corev1.Pod { return b.p }

type serviceBuilder struct{ s *corev1.Service }

func makeService() serviceBuilder {
	return serviceBuilder{&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}}
}

func (b serviceBuilder) typ(t corev1.ServiceType) serviceBuilder { b.s.Spec.Type = t; return b }

func (b serviceBuilder) ports(ps ...corev1.ServicePort) serviceBuilder {
	b.s.Spec.Ports = ps
	return b
}

func (b serviceBuilder) with(f func(*corev1.Service)) serviceBuilder { f(b.s); return b }

func (b serviceBuilder) obj() *corev1.Service { return b.s }

type deploymentBuilder struct{ d *appsv1.Deployment }

func makeDeployment() deploymentBuilder {
	labels := map[string]string{"app": "web"}
	return deploymentBuilder{&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.25"}}},
			},
		},
	}}
}

func (b deploymentBuilder) spec(f func(*appsv1.DeploymentSpec)) deploymentBuilder {
	f(&b.d.Spec)
	return b
}

// pod changes the template's pod spec.
func (b deploymentBuilder) pod(f func(*corev1.PodSpec)) deploymentBuilder {
	f(&b.d.Spec.Template.Spec)
	return b
}

func (b deploymentBuilder) obj() *appsv1.Deployment { return b.d }

// problems defaults a copy of obj, validates it and returns its errors as
// sorted "field: type" lines ("spec.ports[0].port: Required value").
func problems(obj runtime.Object) []string {
	obj = obj.DeepCopyObject()
	Default(obj)
	errs, _ := Validate(obj)
	return errorKeys(errs)
}

func errorKeys(errs field.ErrorList) []string {
	keys := []string{}
	for _, e := range errs {
		keys = append(keys, e.Field+": "+e.Type.String())
	}
	sort.Strings(keys)
	return keys
}

type validationCase struct {
	name string
	obj  runtime.Object
	want []string // "field: type", in any order; none for a valid object
}

func runValidationCases(t *testing.T, cases []validationCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(tc.obj)
			want := append([]string{}, tc.want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				obj := tc.obj.DeepCopyObject()
				Default(obj)
				errs, _ := Validate(obj)
				t.Errorf("got:\n  %s\nwant:\n  %s\nerrors:\n%s", strings.Join(got, "\n  "), strings.Join(want, "\n  "), errorLines(errs))
			}
		})
	}
}

// TestValidateUnknownType: types Weft does not validate pass silently.
func TestValidateUnknownType(t *testing.T) {
	for _, obj := range []runtime.Object{&metav1.Status{}, &corev1.PodList{}} {
		Default(obj)
		if errs, warns := Validate(obj); errs != nil || warns != nil {
			t.Errorf("%T: got %v %v", obj, errs, warns)
		}
		if errs := ValidateUpdate(obj, obj); errs != nil {
			t.Errorf("%T update: got %v", obj, errs)
		}
	}
}

// TestValidateMeta covers the ObjectMeta rules shared by every kind.
func TestValidateMeta(t *testing.T) {
	runValidationCases(t, []validationCase{
		{"valid", makePod().obj(), nil},
		{"name required", makePod().name("").obj(), []string{"metadata.name: Required value"}},
		{"generateName stands in for name", makePod().name("").with(func(p *corev1.Pod) { p.GenerateName = "web-" }).obj(), nil},
		{"bad generateName", makePod().name("").with(func(p *corev1.Pod) { p.GenerateName = "Web_" }).obj(), []string{"metadata.generateName: Invalid value"}},
		{"pod name is a DNS subdomain", makePod().name("web.v1").obj(), nil},
		{"pod name not a DNS subdomain", makePod().name("Web_1").obj(), []string{"metadata.name: Invalid value"}},
		{"namespace may be left to the server", makePod().with(func(p *corev1.Pod) { p.Namespace = "" }).obj(), nil},
		{"namespace syntax", makePod().with(func(p *corev1.Pod) { p.Namespace = "My NS" }).obj(), []string{"metadata.namespace: Invalid value"}},
		{"label key", makePod().with(func(p *corev1.Pod) { p.Labels = map[string]string{"-bad": "x"} }).obj(), []string{"metadata.labels: Invalid value"}},
		{"label value", makePod().with(func(p *corev1.Pod) { p.Labels = map[string]string{"app": "a b"} }).obj(), []string{"metadata.labels: Invalid value"}},
		{"annotation key", makePod().with(func(p *corev1.Pod) { p.Annotations = map[string]string{"a/b/c": "x"} }).obj(), []string{"metadata.annotations: Invalid value"}},
		{"service name is a DNS-1035 label", makeService().with(func(s *corev1.Service) { s.Name = "1web" }).obj(), []string{"metadata.name: Invalid value"}},
		{"service name has no dots", makeService().with(func(s *corev1.Service) { s.Name = "web.v1" }).obj(), []string{"metadata.name: Invalid value"}},
		{"namespace name is a DNS label", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team.a"}}, []string{"metadata.name: Invalid value"}},
		{"cluster-scoped kinds have no namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default"}}, []string{"metadata.namespace: Forbidden"}},
	})
}

// FuzzValidatePod: any JSON that decodes into a Pod defaults and validates
// without panicking.
func FuzzValidatePod(f *testing.F) {
	for _, d := range loadCorpus(f) {
		if pod, ok := d.obj.(*corev1.Pod); ok {
			js, err := json.Marshal(pod)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(js)
		}
	}
	f.Add([]byte(`{"metadata":{"name":"a"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":70000,"hostPort":-1}],` +
		`"env":[{"name":"A=B","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['"}}}],` +
		`"livenessProbe":{"httpGet":{"port":"x"},"exec":{}},"resources":{"limits":{"cpu":"-1"},"requests":{"cpu":"2","memory":"1.5"}},` +
		`"volumeMounts":[{"name":"nope","mountPath":"/a","subPath":"../x"}]}],"volumes":[{"name":"v","hostPath":{"path":""},"emptyDir":{}}],` +
		`"tolerations":[{"operator":"Gt","value":"x"}],"dnsPolicy":"None","affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{}}}}}`))
	f.Add([]byte(`{"spec":{"initContainers":[{"name":"i","restartPolicy":"Always"}],"ephemeralContainers":[{"name":"e","targetContainerName":"x"}],` +
		`"volumes":[{"name":"p","projected":{"sources":[{},{"serviceAccountToken":{"path":"t","expirationSeconds":1}}]}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var pod corev1.Pod
		if json.Unmarshal(data, &pod) != nil {
			return
		}
		old := pod.DeepCopy()
		Default(&pod)
		Validate(&pod)
		ValidateUpdate(&pod, old)
		Validate(HPAv1ToV2(&autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: pod.ObjectMeta}))
	})
}
