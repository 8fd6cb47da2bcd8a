package apiserver

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/policies"
)

// AdmissionPlugin changes or checks an object on its way into the store,
// after defaulting and before validation. old is nil on create.
type AdmissionPlugin interface {
	Name() string
	Admit(ctx context.Context, obj, old api.Object) (warnings []string, err error)
}

// admit runs the admission chain: defaulting, plugins, validation. The
// returned error is a 422 Status with every problem found.
func (s *Server) admit(ctx context.Context, k *api.Kind, obj, old api.Object) ([]string, error) {
	api.Default(obj)
	var warnings []string
	for _, p := range s.cfg.Admission {
		w, err := p.Admit(ctx, obj, old)
		warnings = append(warnings, w...)
		if err != nil {
			return warnings, fmt.Errorf("admission plugin %s: %w", p.Name(), err)
		}
	}
	errs, w := validate(obj)
	warnings = append(warnings, w...)
	if old != nil {
		errs = append(errs, api.ValidateUpdate(obj, old)...)
	}
	if !k.ActedOn {
		warnings = append(warnings, fmt.Sprintf("%s is stored but not acted on by Weft yet", k.Kind))
	}
	if len(errs) > 0 {
		return warnings, invalid(k, k.Kind, obj.GetName(), api.Causes(errs))
	}
	return warnings, nil
}

// validate runs Kubernetes validation, and Istio's for Istio kinds.
func validate(obj api.Object) (field.ErrorList, []string) {
	spec := field.NewPath("spec")
	switch o := obj.(type) {
	case *api.VirtualService:
		errs, warns := api.ValidateIstioMeta(o)
		e, w := policies.ValidateVirtualService(o.Spec, spec)
		return append(errs, e...), append(append(warns, w...), policies.UnsupportedVirtualService(o.Spec, spec)...)
	case *api.DestinationRule:
		errs, warns := api.ValidateIstioMeta(o)
		e, w := policies.ValidateDestinationRule(o.Spec, spec)
		return append(errs, e...), append(append(warns, w...), policies.UnsupportedDestinationRule(o.Spec, spec)...)
	}
	return api.Validate(obj)
}
