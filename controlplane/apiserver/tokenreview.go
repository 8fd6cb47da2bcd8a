package apiserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TokenReviewPath is where TokenReviews are created
// (authentication.k8s.io/v1): node agents check the bearer tokens of the
// requests they serve this way, as a kubelet with webhook authentication
// does.
const TokenReviewPath = "/apis/authentication.k8s.io/v1/tokenreviews"

// setAgentAuth puts the API server's own credential on a request to an
// agent, in place of whatever the caller sent.
func setAgentAuth(h http.Header, token string) {
	h.Del("Authorization")
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
}

// tokenReview answers whether spec.token authenticates, and as whom. Only
// nodes and admins may ask.
func (s *Server) tokenReview(w http.ResponseWriter, r *http.Request) {
	gr := authnv1.SchemeGroupVersion.WithResource("tokenreviews").GroupResource()
	if s.cfg.Auth != nil {
		u, _ := UserFrom(r.Context())
		if !slices.Contains(u.Groups, GroupNodes) && !slices.Contains(u.Groups, GroupAdmins) {
			writeStatus(w, apierrors.NewForbidden(gr, "", errors.New("only nodes and admins may review tokens")))
			return
		}
	}
	var tr authnv1.TokenReview
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&tr); err != nil {
		writeStatus(w, apierrors.NewBadRequest("decode TokenReview: "+err.Error()))
		return
	}
	tr.Status = authnv1.TokenReviewStatus{}
	switch {
	case s.cfg.Auth == nil:
		tr.Status.Error = "the API server does not authenticate"
	default:
		u, err := s.cfg.Auth.Authenticate(r.Context(), tr.Spec.Token)
		switch {
		case errors.Is(err, ErrBadToken):
			tr.Status.Error = ErrBadToken.Error()
		case err != nil:
			writeStatus(w, apierrors.NewInternalError(err))
			return
		default:
			tr.Status.Authenticated = true
			tr.Status.User = authnv1.UserInfo{Username: u.Name, Groups: u.Groups}
		}
	}
	tr.Spec.Token = "" // never echoed back
	tr.TypeMeta = metav1.TypeMeta{Kind: "TokenReview", APIVersion: authnv1.SchemeGroupVersion.String()}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(&tr)
}
