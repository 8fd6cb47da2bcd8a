package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// selector is a request's label and field selector.
type selector struct {
	labels labels.Selector
	fields fields.Selector
}

func parseSelector(r *http.Request) (selector, error) {
	q := r.URL.Query()
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return selector{}, apierrors.NewBadRequest("labelSelector: " + err.Error())
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return selector{}, apierrors.NewBadRequest("fieldSelector: " + err.Error())
	}
	for _, req := range fs.Requirements() {
		if _, ok := fieldSet(nil)[req.Field]; !ok {
			if _, ok := podFields[req.Field]; !ok {
				return selector{}, apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
			}
		}
	}
	return selector{labels: ls, fields: fs}, nil
}

var podFields = map[string]bool{"spec.nodeName": true, "status.phase": true}

// fieldSet is the set of fields a field selector may match on.
func fieldSet(obj api.Object) fields.Set {
	if obj == nil {
		return fields.Set{"metadata.name": "", "metadata.namespace": ""}
	}
	set := fields.Set{"metadata.name": obj.GetName(), "metadata.namespace": obj.GetNamespace()}
	if p, ok := obj.(*corev1.Pod); ok {
		set["spec.nodeName"] = p.Spec.NodeName
		set["status.phase"] = string(p.Status.Phase)
	}
	return set
}

func (sel selector) matches(obj api.Object) bool {
	return sel.labels.Matches(labels.Set(obj.GetLabels())) && sel.fields.Matches(fieldSet(obj))
}

// everything reports whether the selector selects every object.
func (sel selector) everything() bool { return sel.labels.Empty() && sel.fields.Empty() }

// selectable is what a selector reads of a stored object: decoding only
// this, a selected list decodes in full just the objects it returns.
type selectable struct {
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
}

type selectablePod struct {
	selectable
	Spec struct {
		NodeName string `json:"nodeName"`
	} `json:"spec"`
	Status struct {
		Phase string `json:"phase"`
	} `json:"status"`
}

// matchesStored is matches on a stored object's JSON.
func (sel selector) matchesStored(k *api.Kind, value []byte) (bool, error) {
	var m selectable
	set := fields.Set{}
	if k.Kind == "Pod" {
		var p selectablePod
		if err := json.Unmarshal(value, &p); err != nil {
			return false, err
		}
		m = p.selectable
		set["spec.nodeName"], set["status.phase"] = p.Spec.NodeName, p.Status.Phase
	} else if err := json.Unmarshal(value, &m); err != nil {
		return false, err
	}
	set["metadata.name"], set["metadata.namespace"] = m.Metadata.Name, m.Metadata.Namespace
	return sel.labels.Matches(labels.Set(m.Metadata.Labels)) && sel.fields.Matches(set), nil
}

// listObject is a Kubernetes list: {"kind":"PodList","items":[...]}.
type listObject struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []api.Object `json:"items"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, info requestInfo) {
	sel, err := parseSelector(r)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	items, rev, err := s.listObjects(r, info, sel)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	out := listObject{
		TypeMeta: metav1.TypeMeta{APIVersion: joinGV(info.Kind.Group, info.Version), Kind: info.Kind.ListKind()},
		ListMeta: metav1.ListMeta{ResourceVersion: strconv.FormatInt(rev, 10)},
		Items:    items,
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listObjects(r *http.Request, info requestInfo, sel selector) ([]api.Object, int64, error) {
	kvs, rev, err := s.cfg.Store.List(r.Context(), storagePrefix(info.Kind, info.Namespace), store.ListOptions{})
	if err != nil {
		return nil, 0, err
	}
	items := make([]api.Object, 0, len(kvs))
	all := sel.everything()
	for _, kv := range kvs {
		if !all {
			ok, err := sel.matchesStored(info.Kind, kv.Value)
			if err != nil {
				return nil, 0, fmt.Errorf("decode %s: %w", kv.Key, err)
			}
			if !ok {
				continue
			}
		}
		obj, err := decode(info.Kind, kv)
		if err != nil {
			return nil, 0, err
		}
		if obj, err = api.ToVersion(obj, info.Version); err != nil {
			return nil, 0, err
		}
		items = append(items, obj)
	}
	return items, rev, nil
}

// watchEvent is one line of a watch stream.
type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// watch streams events as JSON lines. Without a resourceVersion (or "0")
// it starts with an ADDED event per existing object, as Kubernetes does.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, info requestInfo) {
	sel, err := parseSelector(r)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	ctx := r.Context()
	var initial []api.Object
	var from int64
	switch rv := r.URL.Query().Get("resourceVersion"); rv {
	case "", "0":
		initial, from, err = s.listObjects(r, info, sel)
		if err != nil {
			s.respond(w, r, info, 0, nil, err)
			return
		}
	default:
		from, err = strconv.ParseInt(rv, 10, 64)
		if err != nil {
			s.respond(w, r, info, 0, nil, apierrors.NewBadRequest("resourceVersion: "+err.Error()))
			return
		}
	}
	ch, err := s.cfg.Store.Watch(ctx, storagePrefix(info.Kind, info.Namespace), from)
	if err != nil {
		if errors.Is(err, store.ErrCompacted) {
			err = apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d", from))
		}
		s.respond(w, r, info, 0, nil, err)
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	send := func(typ string, obj any) bool {
		if err := enc.Encode(watchEvent{Type: typ, Object: obj}); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	for _, obj := range initial {
		if !send(string(store.Added), obj) {
			return
		}
	}
	if flusher != nil {
		flusher.Flush()
	}
	for ev := range ch {
		obj, err := decode(info.Kind, ev.KV)
		if err != nil {
			send("ERROR", apierrors.NewInternalError(err).Status())
			return
		}
		if !sel.matches(obj) {
			continue
		}
		if obj, err = api.ToVersion(obj, info.Version); err != nil {
			send("ERROR", apierrors.NewInternalError(err).Status())
			return
		}
		if !send(string(ev.Type), obj) {
			return
		}
	}
}
