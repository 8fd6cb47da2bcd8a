package api

import (
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateIstioMeta checks the metadata of an Istio resource as the
// Kubernetes API server checks a custom resource's (names are DNS-1123
// subdomains); the spec is validated by package policies.
func ValidateIstioMeta(obj Object) (field.ErrorList, []string) {
	return apivalidation.ValidateObjectMetaAccessor(obj, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata")), nil
}
