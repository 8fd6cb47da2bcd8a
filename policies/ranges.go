package policies

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Range checks shared by VirtualService and DestinationRule fields: durations,
// ports and percentages.

// validateDuration checks a duration field the way Istio does for timeouts,
// delays and intervals: at least 1ms, and a whole number of milliseconds.
// Callers skip it for the few fields where zero has a meaning.
func validateDuration(d *durationpb.Duration, fldPath *field.Path) *field.Error {
	if d == nil {
		return nil
	}
	if err := d.CheckValid(); err != nil {
		return field.Invalid(fldPath, fmt.Sprintf("%ds %dns", d.GetSeconds(), d.GetNanos()), "invalid duration")
	}
	dur := d.AsDuration()
	if dur < time.Millisecond {
		return field.Invalid(fldPath, dur.String(), "duration must be greater than 1ms")
	}
	if dur%time.Millisecond != 0 {
		return field.Invalid(fldPath, dur.String(), "only durations to ms precision are supported")
	}
	return nil
}

// validatePort checks a port number is in 1..65535.
func validatePort(port uint32, fldPath *field.Path) *field.Error {
	if port >= 1 && port <= 65535 {
		return nil
	}
	return invalid(fldPath, int64(port), "port number %d must be in the range 1..65535", port)
}

// validatePercentage checks a fractional percentage (fault injection):
// 0, or from 0.0001 to 100.
func validatePercentage(p *networking.Percent, fldPath *field.Path) *field.Error {
	if p == nil {
		return nil
	}
	v := p.GetValue()
	if v < 0 || v > 100 || (v > 0 && v < 0.0001) {
		return invalid(fldPath.Child("value"), v, "percentage %v is neither 0.0, nor in range [0.0001, 100.0]", v)
	}
	return nil
}

// validateIntPercent checks an integer percentage is in 0..100.
func validateIntPercent(v int32, fldPath *field.Path) *field.Error {
	if v < 0 || v > 100 {
		return invalid(fldPath, v, "percentage %v is not in range 0..100", v)
	}
	return nil
}
