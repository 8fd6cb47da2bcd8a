package policies

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Kubernetes label syntax, for sourceLabels matches and subset labels.

const labelNameMaxLength = 63

var qualifiedNameRegexp = regexp.MustCompile("^[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$")

// isLabelKey reports whether k is a valid label key: an optional DNS-1123
// subdomain prefix and "/", then a name of at most 63 characters.
func isLabelKey(k string) bool {
	name := k
	if prefix, rest, found := strings.Cut(k, "/"); found {
		if !isObjectName(prefix) {
			return false
		}
		name = rest
	}
	return len(name) <= labelNameMaxLength && qualifiedNameRegexp.MatchString(name)
}

// isLabelValue reports whether v is a valid label value (empty is valid).
func isLabelValue(v string) bool {
	return v == "" || (len(v) <= labelNameMaxLength && qualifiedNameRegexp.MatchString(v))
}

// validateLabels checks every key and value of a label map; errors are
// reported at fldPath[key].
func validateLabels(labels map[string]string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedKeys(labels) {
		v := labels[k]
		if !isLabelKey(k) {
			errs = append(errs, field.Invalid(fldPath.Key(k), k, fmt.Sprintf("invalid tag key: %q", k)))
		}
		if !isLabelValue(v) {
			errs = append(errs, field.Invalid(fldPath.Key(k), v, fmt.Sprintf("invalid tag value: %q", v)))
		}
	}
	return errs
}

// sortedKeys returns the keys of m in order, so that errors come out the same
// way every time.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
