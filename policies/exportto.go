package policies

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// exportTo values with a meaning of their own.
const (
	exportPrivate = "." // the resource's own namespace
	exportPublic  = "*" // every namespace
	exportNone    = "~" // nobody; ServiceEntry only
)

// validateExportTo checks an exportTo list: ".", "*" or namespace names, no
// duplicates, and "*" alone. With a workloadSelector (DestinationRule), the
// rule may not be exported beyond its own namespace.
//
// The namespace of the resource is not known here, so "." and the
// namespace's own name are not recognised as duplicates, and a single named
// namespace next to a workloadSelector is assumed to be the resource's own.
func validateExportTo(exportTo []string, hasWorkloadSelector bool, fldPath *field.Path) field.ErrorList {
	if len(exportTo) == 0 {
		return nil
	}
	var errs field.ErrorList
	seen := make(map[string]bool, len(exportTo))
	for i, e := range exportTo {
		p := fldPath.Index(i)
		if seen[e] {
			errs = append(errs, duplicate(p, e, "duplicate entries in exportTo for entry %s", e))
			continue
		}
		switch e {
		case exportPrivate, exportPublic:
		case exportNone:
			errs = append(errs, field.Invalid(p, e, "exportTo ~ (none) is not allowed for Istio configuration objects"))
			continue
		default:
			if !isDNS1123Label(e) {
				errs = append(errs, field.Invalid(p, e, "only .,*, or a valid DNS 1123 label is allowed as exportTo entry"))
				continue
			}
		}
		seen[e] = true
	}
	if seen[exportPublic] && len(exportTo) > 1 {
		errs = append(errs, field.Invalid(fldPath, exportTo, "cannot have both public (*) and non-public exportTo values for a resource"))
	}
	if hasWorkloadSelector {
		switch {
		case seen[exportPublic]:
			errs = append(errs, field.Invalid(fldPath, exportTo, "destination rule with workload selector cannot have exportTo beyond current namespace"))
		case len(seen) > 1:
			errs = append(errs, field.Invalid(fldPath, exportTo, "destination rule with workload selector cannot have multiple entries in exportTo"))
		}
	}
	return errs
}
