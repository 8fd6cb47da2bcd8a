package policies

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Rules of a VirtualService that can never match. Istio warns about them
// rather than rejecting the resource.

// unreachableRules warns about the http, tcp and tls rules that can never match.
func (v *vsValidator) unreachableRules(fldPath *field.Path) {
	vs := v.vs
	v.unreachableHTTPRules(fldPath.Child("http"))
	tcp := make([]l4Rule, len(vs.GetTcp()))
	for i, r := range vs.GetTcp() {
		tcp[i] = l4Rule{present: r != nil}
		for _, m := range r.GetMatch() {
			tcp[i].matches = append(tcp[i].matches, m)
		}
	}
	unreachableL4Rules(v.findings, fldPath.Child("tcp"), tcp)
	tls := make([]l4Rule, len(vs.GetTls()))
	for i, r := range vs.GetTls() {
		tls[i] = l4Rule{present: r != nil}
		for _, m := range r.GetMatch() {
			tls[i].matches = append(tls[i].matches, m)
		}
	}
	unreachableL4Rules(v.findings, fldPath.Child("tls"), tls)
}

// unreachableHTTPRules warns about rules that can never match: a rule
// without matches that is not the last such rule, or whose every match
// repeats one of an earlier rule.
func (v *vsValidator) unreachableHTTPRules(p *field.Path) {
	routes := v.vs.GetHttp()
	name := func(i int) string {
		if n := routes[i].GetName(); n != "" {
			return fmt.Sprintf("%q", n)
		}
		return fmt.Sprintf("#%d", i)
	}
	seen := map[string]int{}
	emptyMatch := -1
	for i, r := range routes {
		if r == nil {
			continue
		}
		if len(r.GetMatch()) == 0 {
			if emptyMatch >= 0 {
				v.warn(p.Index(i), "virtualService rule %v not used (only the last rule can have no matches)", name(i))
			}
			emptyMatch = i
			continue
		}
		dups := 0
		for j, m := range r.GetMatch() {
			key := httpMatchKey(m)
			if prev, ok := seen[key]; ok {
				matchName := fmt.Sprintf("#%d", j)
				if m.GetName() != "" {
					matchName = fmt.Sprintf("%q", m.GetName())
				}
				v.warn(p.Index(i).Child("match").Index(j),
					"virtualService rule %v match %v is not used (duplicate/overlapping match in rule %v)", name(i), matchName, name(prev))
				dups++
			} else {
				seen[key] = i
			}
		}
		if dups == len(r.GetMatch()) {
			v.warn(p.Index(i), "virtualService rule %v not used (all matches used by prior rules)", name(i))
		}
	}
}

// httpMatchKey is a canonical form of a match, leaving out its name.
func httpMatchKey(m *networking.HTTPMatchRequest) string {
	if m == nil {
		return ""
	}
	if m.GetName() != "" {
		m = proto.CloneOf(m)
		m.Name = ""
	}
	return matchKey(m)
}

func matchKey(m proto.Message) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// l4Rule is a tcp or tls rule as unreachableL4Rules sees it.
type l4Rule struct {
	present bool // false for a null rule, which is skipped
	matches []proto.Message
}

// unreachableL4Rules is unreachableHTTPRules for tcp and tls rules, which
// have no names.
func unreachableL4Rules(f *findings, p *field.Path, rules []l4Rule) {
	seen := map[string]int{}
	emptyMatch := -1
	for i, r := range rules {
		if !r.present {
			continue
		}
		if len(r.matches) == 0 {
			if emptyMatch >= 0 {
				f.warn(p.Index(i), "virtualService rule #%d not used (only the last rule can have no matches)", i)
			}
			emptyMatch = i
			continue
		}
		dups := 0
		for j, m := range r.matches {
			key := matchKey(m)
			if prev, ok := seen[key]; ok {
				f.warn(p.Index(i).Child("match").Index(j),
					"virtualService rule #%d match #%d is not used (duplicate/overlapping match in rule #%d)", i, j, prev)
				dups++
			} else {
				seen[key] = i
			}
		}
		if dups == len(r.matches) {
			f.warn(p.Index(i), "virtualService rule #%d not used (all matches used by prior rules)", i)
		}
	}
}
