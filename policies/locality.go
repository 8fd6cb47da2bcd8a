package policies

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Topology labels that failoverPriority may not use together with failover:
// failover already orders by region, zone and subzone.
var topologyLabels = map[string]bool{
	"topology.kubernetes.io/region": true,
	"topology.kubernetes.io/zone":   true,
	"topology.istio.io/subzone":     true,
}

// localityLbSetting checks locality-weighted distribution and failover.
func (v *drValidator) localityLbSetting(lb *networking.LocalityLoadBalancerSetting, od *networking.OutlierDetection, p *field.Path) {
	if lb == nil {
		return
	}
	if len(lb.GetDistribute()) > 0 && len(lb.GetFailover()) > 0 {
		v.add(field.Forbidden(p.Child("failover"), "can not simultaneously specify 'distribute' and 'failover'"))
		return
	}
	if len(lb.GetFailover()) > 0 {
		for i, l := range lb.GetFailoverPriority() {
			if topologyLabels[l] {
				v.add(field.Forbidden(p.Child("failoverPriority").Index(i),
					fmt.Sprintf("can not simultaneously set 'failover' and topology label '%s' in 'failover_priority'", l)))
			}
		}
	}

	sources := make([]string, 0, len(lb.GetDistribute()))
	for i, d := range lb.GetDistribute() {
		dp := p.Child("distribute").Index(i)
		sources = append(sources, d.GetFrom())
		var total uint64
		inRange := true
		for _, to := range sortedKeys(d.GetTo()) {
			w := d.GetTo()[to]
			if w == 0 || w > 100 {
				v.add(field.Invalid(dp.Child("to").Key(to), int64(w), "locality weight must be in range [1, 100]"))
				inRange = false
			}
			total += uint64(w)
		}
		if inRange && total != 100 {
			v.add(invalid(dp.Child("to"), int64(total), "total locality weight %v != 100", total))
		}
		v.add(invalidErr(dp.Child("to"), field.OmitValueType{}, checkLocalities(sortedKeys(d.GetTo()))))
	}
	v.add(invalidErr(p.Child("distribute"), field.OmitValueType{}, checkLocalities(sources)))

	if (len(lb.GetFailover()) > 0 || len(lb.GetFailoverPriority()) > 0) && od == nil {
		v.warn(p, "outlier detection policy must be provided for failover")
	}
	for i, f := range lb.GetFailover() {
		fp := p.Child("failover").Index(i)
		if f.GetFrom() == f.GetTo() {
			v.add(field.Invalid(fp, f.GetFrom(), "locality lb failover settings must specify different regions"))
		}
		if strings.Contains(f.GetFrom(), "/") || strings.Contains(f.GetTo(), "/") {
			v.add(field.Invalid(fp, f.GetFrom()+" -> "+f.GetTo(), "locality lb failover only specify region"))
		}
		if strings.Contains(f.GetFrom(), "*") || strings.Contains(f.GetTo(), "*") {
			v.add(field.Invalid(fp, f.GetFrom()+" -> "+f.GetTo(), "locality lb failover region should not contain '*' wildcard"))
		}
	}
}

// checkLocalities checks a list of region/zone/subzone localities: at most
// one "*", at the end; no empty part; no locality covered by another.
func checkLocalities(localities []string) error {
	// region -> zone -> subzone; "*" stands for "all of them".
	seen := map[string]map[string]map[string]bool{}
	for _, l := range localities {
		if n := strings.Count(l, "*"); n > 0 && (n > 1 || !strings.HasSuffix(l, "*")) {
			return fmt.Errorf("locality %s wildcard '*' number can not exceed 1 and must be in the end", l)
		}
		if _, all := seen["*"]; all {
			return fmt.Errorf("locality %s overlap with previous specified ones", l)
		}
		parts := strings.SplitN(l, "/", 3)
		for _, part := range parts {
			if part == "" {
				return fmt.Errorf("locality %s must not contain empty region/zone/subzone info", l)
			}
		}
		overlap := fmt.Errorf("locality %s overlap with previous specified ones", l)
		region := parts[0]
		zones, regionSeen := seen[region]
		switch len(parts) {
		case 1:
			if regionSeen {
				return overlap
			}
			seen[region] = map[string]map[string]bool{"*": {"*": true}}
		case 2:
			zone := parts[1]
			if !regionSeen {
				seen[region] = map[string]map[string]bool{zone: {"*": true}}
				continue
			}
			if _, ok := zones["*"]; ok {
				return overlap
			}
			if _, ok := zones[zone]; ok {
				return overlap
			}
			zones[zone] = map[string]bool{"*": true}
		case 3:
			zone, subzone := parts[1], parts[2]
			if !regionSeen {
				seen[region] = map[string]map[string]bool{zone: {subzone: true}}
				continue
			}
			if _, ok := zones["*"]; ok {
				return overlap
			}
			subzones, zoneSeen := zones[zone]
			if !zoneSeen {
				zones[zone] = map[string]bool{subzone: true}
				continue
			}
			if subzones["*"] || subzones[subzone] {
				return overlap
			}
			subzones[subzone] = true
		}
	}
	return nil
}
