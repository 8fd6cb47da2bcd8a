package main

// The areas of the report, in the order it shows them.
const (
	areaSidecar   = "Sidecar: weft-proxy vs nginx, haproxy and Go's reverse proxy"
	areaMesh      = "Mesh: two sidecars (client → weft-proxy → weft-proxy → app)"
	areaXDS       = "xDS: pushes to 1,000 proxies"
	areaDNS       = "DNS"
	areaScheduler = "Scheduler"
	areaWorkloads = "Workloads: apply → Ready"
	areaApply     = "Apply"
	areaLatency   = "Single-object write latency"
	areaSustained = "Sustained durable writes"
	areaList      = "List"
	areaWatch     = "Watch fan-out"
	areaProcess   = "weftd process"
)

var areaOrder = []string{
	areaSidecar, areaMesh, areaXDS, areaDNS, areaScheduler, areaWorkloads,
	areaApply, areaLatency, areaSustained, areaList, areaWatch, areaProcess,
}

// target is what a figure must reach: at least or at most value.
type target struct {
	atMost bool
	value  float64
}

// met judges a median against the target: the verdict the report gives.
func (t target) met(v float64) bool {
	if t.atMost {
		return v <= t.value
	}
	return v >= t.value
}

// row is one figure of the report with its value from every round.
type row struct {
	name   string
	unit   string
	values []float64
	target *target // nil: no target
}

// sampleCount says how many samples a latency figure had in each round.
type sampleCount struct {
	area, what string
	counts     []int
}

// results collects the figures of all rounds.
type results struct {
	rows     map[string][]*row // by area, in the order first added
	counts   []*sampleCount
	matrices map[string][]*matrix // comparison tables, by area
	notes    map[string][]string  // what each area's run found worth saying (set by the area)
	failed   map[string]string    // areas that could not be measured, and why
}

func newResults() *results {
	return &results{rows: map[string][]*row{}, matrices: map[string][]*matrix{}, notes: map[string][]string{}, failed: map[string]string{}}
}

// add records this round's value of a figure.
func (r *results) add(area, name, unit string, v float64) {
	x := r.row(area, name, unit)
	x.values = append(x.values, v)
}

// addTarget is add for a figure with a target it must reach or exceed.
func (r *results) addTarget(area, name, unit string, v, atLeast float64) {
	r.add(area, name, unit, v)
	r.row(area, name, unit).target = &target{value: atLeast}
}

// addAtMost is add for a figure with a target it must not exceed.
func (r *results) addAtMost(area, name, unit string, v, limit float64) {
	r.add(area, name, unit, v)
	r.row(area, name, unit).target = &target{atMost: true, value: limit}
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

// matrix is a comparison table: one line per subject (direct, nginx,
// weft-proxy, ...), one column per figure, each cell the rounds' values.
type matrix struct {
	title    string
	columns  []column
	subjects []string
	cells    map[string]map[string][]float64 // subject → column name → values
}

type column struct{ name, unit string }

// matrix returns the area's comparison table with this title, creating it
// with the given columns.
func (r *results) matrix(area, title string, columns ...column) *matrix {
	for _, m := range r.matrices[area] {
		if m.title == title {
			return m
		}
	}
	m := &matrix{title: title, columns: columns, cells: map[string]map[string][]float64{}}
	r.matrices[area] = append(r.matrices[area], m)
	return m
}

// add records a subject's value of a column for this round.
func (m *matrix) add(subject, col string, v float64) {
	if m.cells[subject] == nil {
		m.cells[subject] = map[string][]float64{}
		m.subjects = append(m.subjects, subject)
	}
	m.cells[subject][col] = append(m.cells[subject][col], v)
}

func (m *matrix) values(subject, col string) []float64 { return m.cells[subject][col] }
