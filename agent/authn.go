package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The agent's API runs commands in pods and reads their logs: only the
// API server (or an admin) may call it. As a kubelet with webhook
// authentication, the agent asks weftd who a request's bearer token
// belongs to (a TokenReview) and lets members of system:masters through.
// Verdicts are remembered briefly, so that a burst of requests costs one
// review.

// agentAdmins is the group allowed to use the agent's API.
const agentAdmins = "system:masters"

// How long verdicts are remembered, and how many.
const (
	acceptedFor  = time.Minute
	rejectedFor  = 10 * time.Second
	maxVerdicts  = 1024
	reviewBudget = 5 * time.Second
)

// reviewFunc reviews a token with the API server.
type reviewFunc func(ctx context.Context, token string) (authnv1.TokenReviewStatus, error)

type verdict struct {
	status int // 0 allowed, else the HTTP status to answer
	msg    string
	until  time.Time
}

// authn guards the agent's handler.
type authn struct {
	review reviewFunc
	now    func() time.Time

	mu       sync.Mutex
	verdicts map[[sha256.Size]byte]verdict // by the token's hash: tokens are not kept
}

func newAuthn(review reviewFunc) *authn {
	return &authn{review: review, now: time.Now, verdicts: map[[sha256.Size]byte]verdict{}}
}

var agentGR = schema.GroupResource{Resource: "nodes/proxy"}

// wrap requires an allowed bearer token on every path but /healthz.
func (a *authn) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		v := a.check(r.Context(), strings.TrimSpace(token))
		switch v.status {
		case 0:
			next.ServeHTTP(w, r)
		case http.StatusUnauthorized:
			writeError(w, apierrors.NewUnauthorized(v.msg))
		case http.StatusForbidden:
			writeError(w, apierrors.NewForbidden(agentGR, "", errors.New(v.msg)))
		default:
			writeError(w, apierrors.NewServiceUnavailable(v.msg))
		}
	})
}

// check decides on a token, from memory when it can.
func (a *authn) check(ctx context.Context, token string) verdict {
	if token == "" {
		return verdict{status: http.StatusUnauthorized, msg: "Unauthorized: the agent's API needs a bearer token (weftd's API server presents one)"}
	}
	key := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	v, ok := a.verdicts[key]
	a.mu.Unlock()
	if ok && now.Before(v.until) {
		return v
	}
	rctx, cancel := context.WithTimeout(ctx, reviewBudget)
	defer cancel()
	st, err := a.review(rctx, token)
	v = decideReview(st, err)
	if v.status == http.StatusServiceUnavailable {
		return v // not remembered: the next request asks again
	}
	v.until = now.Add(acceptedFor)
	if v.status != 0 {
		v.until = now.Add(rejectedFor)
	}
	a.mu.Lock()
	if len(a.verdicts) >= maxVerdicts {
		clear(a.verdicts)
	}
	a.verdicts[key] = v
	a.mu.Unlock()
	return v
}

// decideReview turns a TokenReview's answer into a verdict.
func decideReview(st authnv1.TokenReviewStatus, err error) verdict {
	switch {
	case err != nil:
		return verdict{status: http.StatusServiceUnavailable, msg: "cannot check the request's token with the API server: " + err.Error()}
	case !st.Authenticated:
		return verdict{status: http.StatusUnauthorized, msg: "Unauthorized: unknown bearer token"}
	case !slices.Contains(st.User.Groups, agentAdmins):
		return verdict{status: http.StatusForbidden, msg: "user " + st.User.Username + " may not use the agent's API (only " + agentAdmins + ")"}
	}
	return verdict{}
}
