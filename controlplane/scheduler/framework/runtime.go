package framework

import (
	"context"
	"fmt"
)

// Profile says which plugins a scheduler runs and how scores weigh.
type Profile struct {
	// Filters run in this order; the first to reject a node decides the
	// reason shown for it. A filter plugin's PreFilter, when it has one,
	// runs before any Filter.
	Filters []string
	// Scores with their weights. A score plugin's PreScore, when it has
	// one, runs before any Score.
	Scores []WeightedPlugin
}

// WeightedPlugin is a score plugin and the weight of its scores.
type WeightedPlugin struct {
	Name   string
	Weight int64
}

// Framework runs one profile's plugins. It is safe for one scheduling
// cycle at a time.
type Framework struct {
	preFilter    []PreFilterPlugin
	preFilterIdx []int // index in filter of each preFilter plugin
	filter       []FilterPlugin
	preScore     []PreScorePlugin
	preScoreIdx  []int // index in score of each preScore plugin
	score        []ScorePlugin
	weights      []int64
	plugins      map[string]Plugin

	// Score buffers, reused from cycle to cycle.
	totals, scores NodeScoreList
}

// New builds the plugins a profile names from the registry (each name
// once, shared when a plugin serves several extension points) and checks
// that each implements the extension point it is listed for.
func New(r Registry, p Profile, h Handle) (*Framework, error) {
	f := &Framework{plugins: map[string]Plugin{}}
	get := func(name string) (Plugin, error) {
		if pl, ok := f.plugins[name]; ok {
			return pl, nil
		}
		factory, ok := r[name]
		if !ok {
			return nil, fmt.Errorf("plugin %q is not registered", name)
		}
		pl, err := factory(h)
		if err != nil {
			return nil, fmt.Errorf("build plugin %q: %w", name, err)
		}
		f.plugins[name] = pl
		return pl, nil
	}
	seen := map[string]bool{}
	for _, name := range p.Filters {
		if seen[name] {
			return nil, fmt.Errorf("filter plugin %q is listed twice", name)
		}
		seen[name] = true
		pl, err := get(name)
		if err != nil {
			return nil, err
		}
		fp, ok := pl.(FilterPlugin)
		if !ok {
			return nil, fmt.Errorf("plugin %q is not a filter plugin", name)
		}
		if pp, ok := pl.(PreFilterPlugin); ok {
			f.preFilter = append(f.preFilter, pp)
			f.preFilterIdx = append(f.preFilterIdx, len(f.filter))
		}
		f.filter = append(f.filter, fp)
	}
	seen = map[string]bool{}
	for _, w := range p.Scores {
		if seen[w.Name] {
			return nil, fmt.Errorf("score plugin %q is listed twice", w.Name)
		}
		seen[w.Name] = true
		if w.Weight <= 0 {
			return nil, fmt.Errorf("score plugin %q: weight %d, want a positive weight", w.Name, w.Weight)
		}
		pl, err := get(w.Name)
		if err != nil {
			return nil, err
		}
		sp, ok := pl.(ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("plugin %q is not a score plugin", w.Name)
		}
		if pp, ok := pl.(PreScorePlugin); ok {
			f.preScore = append(f.preScore, pp)
			f.preScoreIdx = append(f.preScoreIdx, len(f.score))
		}
		f.score = append(f.score, sp)
		f.weights = append(f.weights, w.Weight)
	}
	return f, nil
}

// Plugin returns a built plugin by name (nil if the profile has none).
func (f *Framework) Plugin(name string) Plugin { return f.plugins[name] }

// EventsToRegister is, per filter plugin, the cluster events that may make
// a pod it rejected schedulable (nil: every event).
func (f *Framework) EventsToRegister() map[string][]ClusterEvent {
	out := map[string][]ClusterEvent{}
	for _, p := range f.filter {
		if e, ok := p.(EnqueueExtensions); ok {
			out[p.Name()] = e.EventsToRegister()
		} else {
			out[p.Name()] = nil
		}
	}
	return out
}

// RunPreFilterPlugins runs every PreFilter. A rejection says the pod fits
// no node; the returned status names the plugin.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo) *Status {
	state.skipFilter = resetBools(state.skipFilter, len(f.filter))
	for i, p := range f.preFilter {
		st := p.PreFilter(ctx, state, pod)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			state.skipFilter[f.preFilterIdx[i]] = true
		default:
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunFilterPlugins runs the filters on one node, stopping at the first
// that rejects it; the returned status names the plugin.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	for i, p := range f.filter {
		if state.skipFilter != nil && state.skipFilter[i] {
			continue
		}
		if st := p.Filter(ctx, state, pod, node); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreScorePlugins runs every PreScore over the feasible nodes.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status {
	state.skipScore = resetBools(state.skipScore, len(f.score))
	for i, p := range f.preScore {
		st := p.PreScore(ctx, state, pod, nodes)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			state.skipScore[f.preScoreIdx[i]] = true
		default:
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunScorePlugins scores the feasible nodes: each plugin's scores,
// normalized, times its weight, summed per node (in the order of nodes).
// The list is valid until the next call.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) (NodeScoreList, *Status) {
	f.totals = resize(f.totals, len(nodes))
	f.scores = resize(f.scores, len(nodes))
	totals, scores := f.totals, f.scores
	for j, n := range nodes {
		totals[j] = NodeScore{Name: n.Node().Name}
	}
	for i, p := range f.score {
		if state.skipScore != nil && state.skipScore[i] {
			continue
		}
		for j, n := range nodes {
			s, st := p.Score(ctx, state, pod, n)
			if !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
			scores[j] = NodeScore{Name: totals[j].Name, Score: s}
		}
		if norm, ok := p.(ScoreNormalizer); ok {
			if st := norm.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
		}
		w := f.weights[i]
		for j := range scores {
			s := scores[j].Score
			if s < MinNodeScore || s > MaxNodeScore {
				return nil, AsStatus(fmt.Errorf("plugin %s scored node %s %d, outside [%d, %d]", p.Name(), scores[j].Name, s, MinNodeScore, MaxNodeScore)).WithPlugin(p.Name())
			}
			totals[j].Score += s * w
		}
	}
	return totals, nil
}

func resetBools(b []bool, n int) []bool {
	if cap(b) < n {
		return make([]bool, n)
	}
	b = b[:n]
	clear(b)
	return b
}

func resize(l NodeScoreList, n int) NodeScoreList {
	if cap(l) < n {
		return make(NodeScoreList, n)
	}
	return l[:n]
}
