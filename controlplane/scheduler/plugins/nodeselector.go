package plugins

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// nodeSelector is a parsed spec.affinity.nodeAffinity node selector: terms
// ORed, each term's requirements ANDed.
type nodeSelector struct {
	terms []nodeSelectorTerm
}

type nodeSelectorTerm struct {
	labels []requirement
	fields []requirement
}

type requirement struct {
	key    string
	op     corev1.NodeSelectorOperator
	values []string
	num    int64 // Gt, Lt
}

// newNodeSelectorTerm parses a term; a term with no requirements, or one
// that does not parse, matches no node.
func newNodeSelectorTerm(t *corev1.NodeSelectorTerm) (nodeSelectorTerm, bool) {
	var out nodeSelectorTerm
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return out, false
	}
	for _, e := range t.MatchExpressions {
		r, err := newRequirement(e)
		if err != nil {
			return out, false
		}
		out.labels = append(out.labels, r)
	}
	for _, e := range t.MatchFields {
		if e.Key != "metadata.name" || (e.Operator != corev1.NodeSelectorOpIn && e.Operator != corev1.NodeSelectorOpNotIn) {
			return out, false
		}
		r, err := newRequirement(e)
		if err != nil {
			return out, false
		}
		out.fields = append(out.fields, r)
	}
	return out, true
}

func newRequirement(e corev1.NodeSelectorRequirement) (requirement, error) {
	r := requirement{key: e.Key, op: e.Operator, values: e.Values}
	switch e.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(e.Values) == 0 {
			return r, fmt.Errorf("operator %s needs values", e.Operator)
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(e.Values) != 1 {
			return r, fmt.Errorf("operator %s needs one value", e.Operator)
		}
		n, err := strconv.ParseInt(e.Values[0], 10, 64)
		if err != nil {
			return r, fmt.Errorf("operator %s: %w", e.Operator, err)
		}
		r.num = n
	default:
		return r, fmt.Errorf("unknown operator %q", e.Operator)
	}
	return r, nil
}

func (r *requirement) matches(val string, ok bool) bool {
	switch r.op {
	case corev1.NodeSelectorOpIn:
		return ok && slices.Contains(r.values, val)
	case corev1.NodeSelectorOpNotIn:
		return !ok || !slices.Contains(r.values, val)
	case corev1.NodeSelectorOpExists:
		return ok
	case corev1.NodeSelectorOpDoesNotExist:
		return !ok
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return false
		}
		if r.op == corev1.NodeSelectorOpGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

func (t *nodeSelectorTerm) matches(n *corev1.Node) bool {
	for i := range t.labels {
		v, ok := n.Labels[t.labels[i].key]
		if !t.labels[i].matches(v, ok) {
			return false
		}
	}
	for i := range t.fields {
		if !t.fields[i].matches(n.Name, true) {
			return false
		}
	}
	return true
}

func newNodeSelector(ns *corev1.NodeSelector) *nodeSelector {
	out := &nodeSelector{}
	for i := range ns.NodeSelectorTerms {
		if t, ok := newNodeSelectorTerm(&ns.NodeSelectorTerms[i]); ok {
			out.terms = append(out.terms, t)
		}
	}
	return out
}

func (s *nodeSelector) matches(n *corev1.Node) bool {
	for i := range s.terms {
		if s.terms[i].matches(n) {
			return true
		}
	}
	return false
}
