package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// maxBodyBytes bounds a request body (Kubernetes' limit is 3 MiB).
const maxBodyBytes = 3 << 20

// Config wires a Server.
type Config struct {
	Store store.Store
	// Auth checks bearer tokens; nil lets every request through (tests only).
	Auth Authenticator
	// Admission runs, in order, on every create and update after defaulting
	// and before validation (sidecar injection, IP allocation, ...).
	Admission []AdmissionPlugin
	Log       *zap.Logger
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
	// Handlers serve extra paths (e.g. "GET /weft/v1/proxy-status"), with
	// the same authentication as the rest of the API.
	Handlers map[string]http.Handler
	// AgentToken is the bearer token the API server presents to node
	// agents (logs, exec, proxy admin, metrics); it must authenticate as a
	// member of system:masters.
	AgentToken string
}

// Server is the Kubernetes-shaped HTTP/JSON API over a Store.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

// New builds the API server.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	s.mux.HandleFunc("GET /version", s.version)
	s.mux.HandleFunc("POST "+TokenReviewPath, s.tokenReview)
	s.mux.HandleFunc("GET /api", s.discoveryVersions)
	s.mux.HandleFunc("GET /apis", s.discoveryGroups)
	s.mux.HandleFunc("GET /api/v1", s.discoveryResources)
	s.mux.HandleFunc("GET /apis/{group}/{version}", s.discoveryResources)
	for pattern, h := range cfg.Handlers {
		s.mux.Handle(pattern, h)
	}
	s.mux.HandleFunc("/api/v1/", s.resource)
	s.mux.HandleFunc("/apis/", s.resource)
	s.mux.HandleFunc("GET "+metricsPrefix, s.metrics)
	return s
}

// EnsureNamespaces creates the namespaces every cluster has.
func (s *Server) EnsureNamespaces(ctx context.Context) error {
	k := api.LookupName("namespaces")
	for _, ns := range []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic} {
		obj := k.New(k.Version)
		obj.SetName(ns)
		if _, err := s.create(ctx, k, "", obj); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("create namespace %s: %w", ns, err)
		}
	}
	return nil
}

// ServeHTTP authenticates, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" && r.URL.Path != "/readyz" && s.cfg.Auth != nil {
		user, err := s.cfg.Auth.Authenticate(r.Context(), bearer(r))
		if err != nil {
			writeStatus(w, apierrors.NewUnauthorized("Unauthorized: "+err.Error()))
			return
		}
		r = r.WithContext(withUser(r.Context(), user))
	}
	s.mux.ServeHTTP(w, r)
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

func (s *Server) resource(w http.ResponseWriter, r *http.Request) {
	info, err := parsePath(r.URL.Path)
	if err != nil {
		writeStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound, Message: err.Error()}})
		return
	}
	q := r.URL.Query()
	switch {
	case info.Subresource == "log" || info.Subresource == "exec" || info.Subresource == "proxy-admin":
		s.podProxy(w, r, info)
	case r.Method == http.MethodGet && info.Name == "" && q.Get("watch") == "true":
		s.watch(w, r, info)
	case r.Method == http.MethodGet && info.Name == "":
		s.list(w, r, info)
	case r.Method == http.MethodGet && info.Subresource != "" && info.Subresource != "status":
		writeStatus(w, apierrors.NewMethodNotSupported(schemaGR(info.Kind), r.Method))
	case r.Method == http.MethodGet:
		obj, err := s.get(r.Context(), info.Kind, info.Namespace, info.Name)
		s.respond(w, r, info, http.StatusOK, obj, err)
	case r.Method == http.MethodPost && info.Name == "":
		s.createHandler(w, r, info)
	case r.Method == http.MethodPost && info.Subresource == "binding":
		s.bindHandler(w, r, info)
	case r.Method == http.MethodPut && info.Name != "":
		s.updateHandler(w, r, info)
	case r.Method == http.MethodPatch && info.Name != "":
		s.applyHandler(w, r, info)
	case r.Method == http.MethodDelete && info.Name != "":
		grace, err := gracePeriod(r)
		var obj api.Object
		if err == nil {
			obj, err = s.delete(r.Context(), info.Kind, info.Namespace, info.Name, grace)
		}
		s.respond(w, r, info, http.StatusOK, obj, err)
	default:
		writeStatus(w, apierrors.NewMethodNotSupported(schemaGR(info.Kind), r.Method))
	}
}

// respond writes obj in the version the client asked for, or the error as a Status.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, info requestInfo, code int, obj api.Object, err error) {
	if err != nil {
		se := statusError(err, info.Kind, info.Name)
		if se.ErrStatus.Code >= 500 {
			s.cfg.Log.Error("request failed", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		}
		writeStatus(w, se)
		return
	}
	out, err := api.ToVersion(obj, info.Version)
	if err != nil {
		writeStatus(w, apierrors.NewInternalError(err))
		return
	}
	writeJSON(w, code, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeStatus(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// readObject decodes a request body strictly into a typed object of the path's kind.
func readObject(r *http.Request, info requestInfo) (api.Object, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest("read body: " + err.Error())
	}
	if len(body) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d bytes", maxBodyBytes))
	}
	obj, err := api.Decode(body)
	if err != nil {
		return nil, err
	}
	if k := api.KindOf(obj); k != info.Kind {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body is a %s, but the path is for %s", obj.GetObjectKind().GroupVersionKind().Kind, info.Kind.Resource))
	}
	if info.Kind.Namespaced {
		switch ns := obj.GetNamespace(); {
		case ns == "":
			obj.SetNamespace(info.Namespace)
		case info.Namespace != "" && ns != info.Namespace:
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", ns, info.Namespace))
		}
		if obj.GetNamespace() == "" {
			return nil, apierrors.NewBadRequest("a namespace is required for " + info.Kind.Resource)
		}
	} else {
		obj.SetNamespace("")
	}
	if info.Name != "" && obj.GetName() != info.Name && obj.GetName() != "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", obj.GetName(), info.Name))
	}
	if info.Name != "" {
		obj.SetName(info.Name)
	}
	return obj, nil
}

func (s *Server) createHandler(w http.ResponseWriter, r *http.Request, info requestInfo) {
	obj, err := readObject(r, info)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	info.Name = obj.GetName()
	obj, warnings, err := s.createWithWarnings(r.Context(), info.Kind, obj)
	writeWarnings(w, warnings)
	s.respond(w, r, info, http.StatusCreated, obj, err)
}

func (s *Server) updateHandler(w http.ResponseWriter, r *http.Request, info requestInfo) {
	obj, err := readObject(r, info)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	var warnings []string
	if info.Subresource == "status" {
		obj, err = s.updateStatus(r.Context(), info.Kind, obj)
	} else {
		obj, warnings, err = s.update(r.Context(), info.Kind, obj, nil)
	}
	writeWarnings(w, warnings)
	s.respond(w, r, info, http.StatusOK, obj, err)
}

// ApplyResultHeader tells an apply client what the server did:
// "created", "configured" or "unchanged".
const ApplyResultHeader = "X-Weft-Apply-Result"

func (s *Server) applyHandler(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/apply-patch") {
		writeStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
			Message: fmt.Sprintf("apply wants Content-Type application/apply-patch+yaml, not %q", ct)}})
		return
	}
	obj, err := readObject(r, info)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	out, result, warnings, err := s.apply(r.Context(), info.Kind, obj)
	writeWarnings(w, warnings)
	code := http.StatusOK
	if result == "created" {
		code = http.StatusCreated
	}
	if err == nil {
		w.Header().Set(ApplyResultHeader, result)
	}
	s.respond(w, r, info, code, out, err)
}

func writeWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", `299 - "`+strings.ReplaceAll(msg, `"`, `'`)+`"`)
	}
}

func (s *Server) version(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "37", "gitVersion": Version, "platform": "weft"})
}

// Version is the server's version, set by the linker.
var Version = "v0.1.0-dev"

func schemaGR(k *api.Kind) schema.GroupResource {
	if k == nil {
		return schema.GroupResource{}
	}
	return schema.GroupResource{Group: k.Group, Resource: k.Resource}
}

// gracePeriod reads ?gracePeriodSeconds= (nil when absent).
func gracePeriod(r *http.Request) (*int64, error) {
	v := r.URL.Query().Get("gracePeriodSeconds")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("gracePeriodSeconds: %q is not a whole number of seconds >= 0", v))
	}
	return &n, nil
}
