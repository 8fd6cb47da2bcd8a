package printers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// HumanDuration formats an age like kubectl ("5s", "3m20s", "7h", "2d3h",
// "45d", "3y"): two or three significant figures, coarser as it grows.
func HumanDuration(d time.Duration) string {
	return duration.HumanDuration(d)
}

// since is kubectl's translateTimestampSince with the clock passed in:
// "<unknown>" for an unset time.
func since(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}

// sinceMicro is since for a MicroTime.
func sinceMicro(now time.Time, t metav1.MicroTime) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(t.Time))
}
