package policies

import (
	"fmt"
	"regexp"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxRegexLength bounds regular expressions. Envoy limits the RE2 program
// size, which is always larger than the pattern; Istio approximates it by the
// pattern length.
const maxRegexLength = 1024

// validateStringMatch checks a StringMatch: a regex must compile as RE2, and
// neither a regex nor (unless emptyPrefixOK, as for uri) a prefix may be
// empty. where names the match field in messages, as Istio does ("headers").
func validateStringMatch(sm *networking.StringMatch, where string, emptyPrefixOK bool, fldPath *field.Path) *field.Error {
	switch m := sm.GetMatchType().(type) {
	case *networking.StringMatch_Prefix:
		if m.Prefix == "" && !emptyPrefixOK {
			return invalid(fldPath.Child("prefix"), "", "%q: prefix string match should not be empty", where)
		}
	case *networking.StringMatch_Regex:
		if m.Regex == "" {
			return invalid(fldPath.Child("regex"), "", "%q: regex string match should not be empty", where)
		}
		return validateRegex(m.Regex, where, fldPath.Child("regex"))
	}
	return nil
}

// validateRegex checks that re compiles as RE2 (Go's regexp is RE2) and is not
// too long for Envoy.
func validateRegex(re, where string, fldPath *field.Path) *field.Error {
	if len(re) > maxRegexLength {
		return field.Invalid(fldPath, re, fmt.Sprintf("%q: regex is too large, max length allowed is %d", where, maxRegexLength))
	}
	if _, err := regexp.Compile(re); err != nil {
		return field.Invalid(fldPath, re, fmt.Sprintf(
			"%q: %v; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)", where, err))
	}
	return nil
}
