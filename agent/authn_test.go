package agent

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
)

// TestAgentAuthn: the agent's API lets through only tokens weftd says
// belong to system:masters; /healthz is open; verdicts are remembered
// (accepted for a minute, rejected for 10s) but a failed review is not.
func TestAgentAuthn(t *testing.T) {
	users := map[string]authnv1.UserInfo{
		"admin": {Username: "system:weftd", Groups: []string{"system:masters"}},
		"node":  {Username: "node-bootstrap", Groups: []string{"system:nodes"}},
	}
	reviews := 0
	down := false
	review := func(_ context.Context, token string) (authnv1.TokenReviewStatus, error) {
		reviews++
		if down {
			return authnv1.TokenReviewStatus{}, errors.New("connection refused")
		}
		u, ok := users[token]
		return authnv1.TokenReviewStatus{Authenticated: ok, User: u}, nil
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newAuthn(review)
	a.now = func() time.Time { return now }
	h := a.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("served")) }))
	call := func(path, token string) int {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/healthz", "", http.StatusOK},
		{"/stats/metrics", "", http.StatusUnauthorized},
		{"/exec/default/p", "bogus", http.StatusUnauthorized},
		{"/exec/default/p", "node", http.StatusForbidden},
		{"/exec/default/p", "admin", http.StatusOK},
		{"/containerLogs/default/p", "admin", http.StatusOK},
	} {
		if got := call(tc.path, tc.token); got != tc.want {
			t.Errorf("%s with token %q: %d, want %d", tc.path, tc.token, got, tc.want)
		}
	}
	if reviews != 3 {
		t.Errorf("%d reviews, want 3 (one per distinct token)", reviews)
	}
	// weftd unreachable: remembered verdicts still hold, new tokens get 503.
	down = true
	if got := call("/stats/metrics", "admin"); got != http.StatusOK {
		t.Errorf("remembered admin: %d", got)
	}
	if got := call("/stats/metrics", "other"); got != http.StatusServiceUnavailable {
		t.Errorf("review failing: %d, want 503", got)
	}
	// Rejections are forgotten after 10s, acceptances after a minute.
	now = now.Add(11 * time.Second)
	down = false
	before := reviews
	call("/stats/metrics", "bogus")
	call("/stats/metrics", "admin")
	if reviews != before+1 {
		t.Errorf("after 11s: %d new reviews, want 1 (the rejected token's)", reviews-before)
	}
	now = now.Add(time.Minute)
	call("/stats/metrics", "admin")
	if reviews != before+2 {
		t.Errorf("after a minute: the accepted token is not reviewed again")
	}
}
