package main

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0–100) of values by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns NaN for no values. values need not be sorted.
func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// spread is what the report says of one figure measured once per round.
type spread struct {
	Median, Min, Max float64
	N                int // how many values (rounds)
}

// summarize returns the median (the mean of the two middle values for an
// even count) and the range of values.
func summarize(values []float64) spread {
	if len(values) == 0 {
		return spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{Median: med, Min: s[0], Max: s[n-1], N: n}
}

// millis converts durations to milliseconds, the unit latencies are reported in.
func millis(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// micros is d in microseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
