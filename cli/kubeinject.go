package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/inject"
)

func newKubeInjectCommand(o *options) *cobra.Command {
	var file, outFile string
	cmd := &cobra.Command{
		Use:   "kube-inject -f FILE|- [-o OUTFILE]",
		Short: "Print manifests with the weft-proxy sidecar injected, as istioctl kube-inject does",
		Long: `Read YAML (or JSON) documents and print them as multi-document YAML, with the
weft-proxy sidecar added to Pods and to the pod templates of Deployments,
ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs and
CronJobs: the same container the API server adds at admission.

Asking for injection stands for the namespace label istio-injection=enabled, so
the pod's own annotation (or label) sidecar.istio.io/inject decides: "false"
opts a pod out; pods on the host network and pods that already have a sidecar
are left alone. Every other document passes through unchanged.`,
		Example: `  weftctl kube-inject -f flaskapp.yaml | weftctl apply -f -`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("must specify -f FILE (or - for stdin)")
			}
			return o.kubeInject(file, outFile)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "file with the manifests, or - for stdin")
	cmd.Flags().StringVarP(&outFile, "output", "o", "", "write the injected manifests to this file instead of stdout")
	return cmd
}

func (o *options) kubeInject(file, outFile string) error {
	in, source := o.streams.In, "<stdin>"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("read manifests: %w", err)
		}
		defer f.Close()
		in, source = f, file
	}
	out, err := kubeInject(source, in, inject.Config{Tag: Version})
	if err != nil {
		fmt.Fprintln(o.streams.Err, err)
		return errSilent
	}
	if outFile != "" {
		return os.WriteFile(outFile, out, 0o644)
	}
	_, err = o.streams.Out.Write(out)
	return err
}

// kubeInject injects the sidecar into every document of r that carries a
// pod spec and wants it, and returns all documents as multi-document YAML.
// Documents it does not change are copied as they are, comments and all.
// Any document that does not decode fails the whole: nothing half-injected
// reaches a pipe into `apply`.
func kubeInject(source string, r io.Reader, cfg inject.Config) ([]byte, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	var errs []error
	for index := 1; ; {
		raw, err := yr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read YAML: %w", source, err)
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s doc %d: parse YAML: %w", source, index, err))
			index++
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue // comments only
		}
		out, err := injectDocument(raw, js, cfg)
		if err != nil {
			var de *api.DocError
			if errors.As(err, &de) {
				de.Source, de.Index = source, index
			} else {
				err = fmt.Errorf("%s doc %d: %w", source, index, err)
			}
			errs = append(errs, err)
		}
		docs = append(docs, out)
		index++
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var b bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(d)
		if len(d) > 0 && d[len(d)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}

// injectableKinds carry a pod spec kube-inject injects into.
var injectableKinds = map[string]bool{
	"Pod": true, "Deployment": true, "ReplicaSet": true, "ReplicationController": true,
	"StatefulSet": true, "DaemonSet": true, "Job": true, "CronJob": true,
}

// injectDocument returns one document injected, or raw when it is not a
// kind with a pod spec, opts out, or already has the sidecar.
func injectDocument(raw, js []byte, cfg inject.Config) ([]byte, error) {
	var h struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(js, &h); err != nil || !injectableKinds[h.Kind] {
		return raw, nil // not an object with a pod spec: passes through
	}
	obj, err := api.Decode(raw)
	if err != nil {
		return raw, err
	}
	meta, spec := podTemplate(obj)
	if spec == nil {
		return raw, nil
	}
	// kube-inject is an explicit request: the namespace counts as opted in.
	pod := &corev1.Pod{ObjectMeta: *meta, Spec: *spec}
	if !inject.Wanted(pod, map[string]string{inject.LabelNamespaceIstio: api.InjectionEnabled}) || api.HasSidecar(spec) {
		return raw, nil
	}
	inject.Into(meta, spec, cfg)
	b, err := json.Marshal(obj)
	if err != nil {
		return raw, err
	}
	return yaml.JSONToYAML(b)
}

// podTemplate returns the metadata and spec of a pod, or of a workload's pod template.
func podTemplate(obj api.Object) (*metav1.ObjectMeta, *corev1.PodSpec) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return &o.ObjectMeta, &o.Spec
	case *appsv1.Deployment:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *batchv1.Job:
		return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			return &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
		}
	}
	return nil, nil
}
