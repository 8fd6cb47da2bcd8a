package main

// The areas of the report, in the order it shows them.
const (
	areaApply     = "Apply"
	areaLatency   = "Single-object write latency"
	areaSustained = "Sustained durable writes"
	areaList      = "List"
	areaWatch     = "Watch fan-out"
	areaProcess   = "weftd process"
)

var areaOrder = []string{areaApply, areaLatency, areaSustained, areaList, areaWatch, areaProcess}

// row is one figure of the report with its value from every round.
type row struct {
	name    string
	unit    string
	values  []float64
	atLeast float64 // the target: met when the median is at least this; 0 = no target
}

// sampleCount says how many samples a latency figure had in each round.
type sampleCount struct {
	area, what string
	counts     []int
}

// results collects the figures of all rounds.
type results struct {
	rows   map[string][]*row // by area, in the order first added
	counts []*sampleCount
}

func newResults() *results { return &results{rows: map[string][]*row{}} }

// add records this round's value of a figure.
func (r *results) add(area, name, unit string, v float64) {
	x := r.row(area, name, unit)
	x.values = append(x.values, v)
}

// addTarget is add for a figure with a target it must reach.
func (r *results) addTarget(area, name, unit string, v, atLeast float64) {
	r.add(area, name, unit, v)
	r.row(area, name, unit).atLeast = atLeast
}

func (r *results) row(area, name, unit string) *row {
	for _, x := range r.rows[area] {
		if x.name == name {
			return x
		}
	}
	x := &row{name: name, unit: unit}
	r.rows[area] = append(r.rows[area], x)
	return x
}

// samples records how many samples a latency figure had this round.
func (r *results) samples(area, what string, n int) {
	for _, s := range r.counts {
		if s.area == area && s.what == what {
			s.counts = append(s.counts, n)
			return
		}
	}
	r.counts = append(r.counts, &sampleCount{area: area, what: what, counts: []int{n}})
}
