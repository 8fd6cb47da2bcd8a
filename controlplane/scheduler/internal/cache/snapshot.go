package cache

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// Snapshot is the cluster as one scheduling cycle sees it. It implements
// framework.SharedLister and framework.NodeInfoLister.
type Snapshot struct {
	nodeInfoMap map[string]*framework.NodeInfo
	// nodeInfoList holds the nodes in scheduling order: zones interleaved
	// (so a search that stops early still sees every zone), names sorted
	// within a zone.
	nodeInfoList                         []*framework.NodeInfo
	havePodsWithAffinityList             []*framework.NodeInfo
	havePodsWithRequiredAntiAffinityList []*framework.NodeInfo
	generation                           int64
}

var (
	_ framework.SharedLister   = (*Snapshot)(nil)
	_ framework.NodeInfoLister = (*Snapshot)(nil)
)

// NewEmptySnapshot returns a snapshot for Cache.UpdateSnapshot to fill.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{nodeInfoMap: map[string]*framework.NodeInfo{}}
}

// NewSnapshot builds a snapshot directly from pods and nodes, for tests
// and benchmarks. Pods bound to a node not in nodes are left out.
func NewSnapshot(pods []*corev1.Pod, nodes []*corev1.Node) *Snapshot {
	s := NewEmptySnapshot()
	for _, n := range nodes {
		ni := framework.NewNodeInfo()
		ni.SetNode(n)
		s.nodeInfoMap[n.Name] = ni
	}
	for _, p := range pods {
		if ni, ok := s.nodeInfoMap[p.Spec.NodeName]; ok {
			ni.AddPod(framework.NewPodInfo(p))
		}
	}
	s.rebuildLists()
	return s
}

// NodeInfos implements framework.SharedLister.
func (s *Snapshot) NodeInfos() framework.NodeInfoLister { return s }

// NumNodes is the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.nodeInfoList) }

// List implements framework.NodeInfoLister.
func (s *Snapshot) List() []*framework.NodeInfo { return s.nodeInfoList }

// HavePodsWithAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithAffinityList() []*framework.NodeInfo {
	return s.havePodsWithAffinityList
}

// HavePodsWithRequiredAntiAffinityList implements framework.NodeInfoLister.
func (s *Snapshot) HavePodsWithRequiredAntiAffinityList() []*framework.NodeInfo {
	return s.havePodsWithRequiredAntiAffinityList
}

// Get implements framework.NodeInfoLister.
func (s *Snapshot) Get(name string) (*framework.NodeInfo, error) {
	ni, ok := s.nodeInfoMap[name]
	if !ok || ni.Node() == nil {
		return nil, fmt.Errorf("node %q: %w", name, framework.ErrNodeNotFound)
	}
	return ni, nil
}

// rebuildLists recomputes the node order and the affinity lists.
func (s *Snapshot) rebuildLists() {
	byZone := map[string][]*framework.NodeInfo{}
	for _, ni := range s.nodeInfoMap {
		if n := ni.Node(); n != nil {
			z := ni.Zone
			byZone[z] = append(byZone[z], ni)
		}
	}
	zones := make([]string, 0, len(byZone))
	for z, list := range byZone {
		zones = append(zones, z)
		sort.Slice(list, func(i, j int) bool { return list[i].Node().Name < list[j].Node().Name })
	}
	sort.Strings(zones)
	s.nodeInfoList = s.nodeInfoList[:0]
	for i := 0; len(s.nodeInfoList) < len(s.nodeInfoMap); i++ {
		added := false
		for _, z := range zones {
			if list := byZone[z]; i < len(list) {
				s.nodeInfoList = append(s.nodeInfoList, list[i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	s.rebuildAffinityLists()
}

func (s *Snapshot) rebuildAffinityLists() {
	s.havePodsWithAffinityList = s.havePodsWithAffinityList[:0]
	s.havePodsWithRequiredAntiAffinityList = s.havePodsWithRequiredAntiAffinityList[:0]
	for _, ni := range s.nodeInfoList {
		if len(ni.PodsWithAffinity) > 0 {
			s.havePodsWithAffinityList = append(s.havePodsWithAffinityList, ni)
		}
		if len(ni.PodsWithRequiredAntiAffinity) > 0 {
			s.havePodsWithRequiredAntiAffinityList = append(s.havePodsWithRequiredAntiAffinityList, ni)
		}
	}
}
