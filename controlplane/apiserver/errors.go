package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// statusError converts any error into the Kubernetes Status the API returns.
func statusError(err error, k *api.Kind, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	gr := schema.GroupResource{}
	if k != nil {
		gr = schema.GroupResource{Group: k.Group, Resource: k.Resource}
	}
	var de *api.DocError
	switch {
	case errors.As(err, &de):
		kind := de.Kind
		if kind == "" && k != nil {
			kind = k.Kind
		}
		if de.Name != "" {
			name = de.Name
		}
		return invalid(k, kind, name, de.Causes)
	case errors.Is(err, store.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, store.ErrExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, store.ErrConflict):
		return apierrors.NewConflict(gr, name, errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	case errors.Is(err, store.ErrCompacted):
		return apierrors.NewResourceExpired(err.Error())
	case errors.Is(err, api.ErrUnknownKind):
		return apierrors.NewBadRequest(err.Error())
	}
	return apierrors.NewInternalError(err)
}

// invalid is a 422 with every cause, in Kubernetes' message form:
// `Service "nginx" is invalid: spec.ports[0].port: Required value`.
func invalid(k *api.Kind, kind, name string, causes []metav1.StatusCause) *apierrors.StatusError {
	msg := fmt.Sprintf("%s %q is invalid: ", kind, name)
	if len(causes) > 1 {
		msg += "["
	}
	for i, c := range causes {
		if i > 0 {
			msg += ", "
		}
		if c.Field != "" {
			msg += c.Field + ": "
		}
		msg += c.Message
	}
	if len(causes) > 1 {
		msg += "]"
	}
	group := ""
	if k != nil {
		group = k.Group
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Code:     http.StatusUnprocessableEntity,
		Reason:   metav1.StatusReasonInvalid,
		Message:  msg,
		Details:  &metav1.StatusDetails{Group: group, Kind: kind, Name: name, Causes: causes},
	}}
}

func writeStatus(w http.ResponseWriter, se *apierrors.StatusError) {
	st := se.ErrStatus
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	st.Status = metav1.StatusFailure
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}
