package api

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"google.golang.org/protobuf/proto"
	istiometa "istio.io/api/meta/v1alpha1"
	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
)

// IstioSpec is the protobuf spec of an Istio resource, as istio.io/api
// generates it (the type's MarshalJSON/UnmarshalJSON use jsonpb).
type IstioSpec interface {
	proto.Message
	MarshalJSON() ([]byte, error)
	UnmarshalJSON([]byte) error
}

// IstioResource is the Kubernetes envelope of an Istio custom resource: the
// same shape as istio.io/client-go's types, without client-go's dependencies.
type IstioResource[S IstioSpec] struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              S                      `json:"spec"`
	Status            *istiometa.IstioStatus `json:"status,omitempty"`
}

// DeepCopyObject implements runtime.Object.
func (r *IstioResource[S]) DeepCopyObject() runtime.Object {
	if r == nil {
		return nil
	}
	out := &IstioResource[S]{TypeMeta: r.TypeMeta}
	r.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	if proto.Message(r.Spec) != nil && r.Spec.ProtoReflect().IsValid() {
		out.Spec = proto.Clone(r.Spec).(S)
	}
	if r.Status != nil {
		out.Status = proto.Clone(r.Status).(*istiometa.IstioStatus)
	}
	return out
}

// GetObjectKind implements runtime.Object.
func (r *IstioResource[S]) GetObjectKind() schema.ObjectKind { return &r.TypeMeta }

// The Istio kinds Weft serves. networking.istio.io v1, v1beta1 and v1alpha3
// share one schema (v1 aliases v1alpha3), as do security.istio.io v1 and v1beta1.
type (
	VirtualService      = IstioResource[*networking.VirtualService]
	DestinationRule     = IstioResource[*networking.DestinationRule]
	Gateway             = IstioResource[*networking.Gateway]
	ServiceEntry        = IstioResource[*networking.ServiceEntry]
	Sidecar             = IstioResource[*networking.Sidecar]
	PeerAuthentication  = IstioResource[*security.PeerAuthentication]
	AuthorizationPolicy = IstioResource[*security.AuthorizationPolicy]
)

var _ Object = (*VirtualService)(nil)
