package plugins

import (
	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// Plugin names.
const (
	NodeUnschedulableName        = "NodeUnschedulable"
	NodeNameName                 = "NodeName"
	TaintTolerationName          = "TaintToleration"
	NodeReadyName                = "NodeReady"
	NodeAffinityName             = "NodeAffinity"
	NodePortsName                = "NodePorts"
	NodeResourcesFitName         = "NodeResourcesFit"
	InterPodAffinityName         = "InterPodAffinity"
	LeastAllocatedName           = "NodeResourcesLeastAllocated"
	BalancedAllocationName       = "NodeResourcesBalancedAllocation"
	SelectorSpreadName           = "SelectorSpread"
	defaultHardPodAffinityWeight = 1
)

// NewRegistry returns every built-in plugin.
func NewRegistry() framework.Registry {
	r := framework.Registry{}
	for name, f := range map[string]framework.Factory{
		NodeUnschedulableName:  func(framework.Handle) (framework.Plugin, error) { return &NodeUnschedulable{}, nil },
		NodeNameName:           func(framework.Handle) (framework.Plugin, error) { return &NodeName{}, nil },
		TaintTolerationName:    func(framework.Handle) (framework.Plugin, error) { return &TaintToleration{}, nil },
		NodeReadyName:          func(framework.Handle) (framework.Plugin, error) { return &NodeReady{}, nil },
		NodeAffinityName:       func(framework.Handle) (framework.Plugin, error) { return &NodeAffinity{}, nil },
		NodePortsName:          func(framework.Handle) (framework.Plugin, error) { return &NodePorts{}, nil },
		NodeResourcesFitName:   func(framework.Handle) (framework.Plugin, error) { return &NodeResourcesFit{}, nil },
		InterPodAffinityName:   NewInterPodAffinity,
		LeastAllocatedName:     func(framework.Handle) (framework.Plugin, error) { return &LeastAllocated{}, nil },
		BalancedAllocationName: func(framework.Handle) (framework.Plugin, error) { return &BalancedAllocation{}, nil },
		SelectorSpreadName:     func(framework.Handle) (framework.Plugin, error) { return &SelectorSpread{}, nil },
	} {
		// Names are constants above and distinct; Register cannot fail.
		_ = r.Register(name, f)
	}
	return r
}
