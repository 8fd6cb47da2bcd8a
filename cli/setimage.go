package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

// ChangeCauseAnnotation records what changed a workload, shown by
// `rollout history`.
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

func newSetCommand(o *options) *cobra.Command {
	set := &cobra.Command{Use: "set", Short: "Change a field of an object (image)"}
	var record bool
	img := &cobra.Command{
		Use:   "image (deploy|rs|rc|pod)/NAME CONTAINER=IMAGE [CONTAINER=IMAGE...]",
		Short: "Update the image of containers ('*' for all of them)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			objArgs, images := splitImageArgs(args)
			if len(images) == 0 {
				return fmt.Errorf("at least one CONTAINER=IMAGE is required")
			}
			k, name, err := kindAndName(objArgs, "deployments", "replicasets", "replicationcontrollers", "pods")
			if err != nil {
				return err
			}
			cause := cmd.CommandPath() + " " + strings.Join(args, " ")
			if record {
				cause += " --record=true"
			}
			return o.setImage(k, name, images, record, cause)
		},
	}
	img.Flags().BoolVar(&record, "record", false, "record the command in the kubernetes.io/change-cause annotation (done anyway when the object has one)")
	set.AddCommand(img)
	return set
}

func splitImageArgs(args []string) (obj []string, images map[string]string) {
	images = map[string]string{}
	for _, a := range args {
		if c, img, ok := strings.Cut(a, "="); ok && !strings.Contains(c, "/") {
			images[c] = img
			continue
		}
		obj = append(obj, a)
	}
	return obj, images
}

func podSpecOf(obj api.Object) *corev1.PodSpec {
	switch x := obj.(type) {
	case *appsv1.Deployment:
		return &x.Spec.Template.Spec
	case *appsv1.ReplicaSet:
		return &x.Spec.Template.Spec
	case *corev1.ReplicationController:
		if x.Spec.Template != nil {
			return &x.Spec.Template.Spec
		}
	case *corev1.Pod:
		return &x.Spec
	}
	return nil
}

func (o *options) setImage(k *api.Kind, name string, images map[string]string, record bool, cause string) error {
	obj, err := o.modify(k, name, func(obj api.Object) error {
		spec := podSpecOf(obj)
		if spec == nil {
			return fmt.Errorf("%s has no pod template", objectName(obj))
		}
		for cname, image := range images {
			found := false
			for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
				for i := range list {
					if cname == "*" || list[i].Name == cname {
						list[i].Image, found = image, true
					}
				}
			}
			if !found {
				return fmt.Errorf("unable to find container named %q", cname)
			}
		}
		ann := obj.GetAnnotations()
		if _, has := ann[ChangeCauseAnnotation]; record || has {
			if ann == nil {
				ann = map[string]string{}
			}
			ann[ChangeCauseAnnotation] = cause
			obj.SetAnnotations(ann)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "%s image updated\n", objectName(obj))
	return nil
}
