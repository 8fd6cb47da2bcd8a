package apiserver_test

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// TestTokenReview: nodes and admins may ask who a token belongs to (an
// unknown token is "not authenticated", not an error); others may not.
func TestTokenReview(t *testing.T) {
	s := apiservertest.Start(t, boltstore.Options{})
	ctx := context.Background()
	tokens := apiserver.Tokens{Store: s.Store}
	node, err := tokens.Create(ctx, apiserver.User{Name: "node-bootstrap", Groups: []string{apiserver.GroupNodes}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := tokens.Create(ctx, apiserver.User{Name: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	as := func(token string) *client.Client {
		c, err := client.New(s.URL, token)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	st, err := as(node).ReviewToken(ctx, s.AgentToken)
	if err != nil || !st.Authenticated || st.User.Username != "system:weftd" || len(st.User.Groups) != 1 || st.User.Groups[0] != apiserver.GroupAdmins {
		t.Fatalf("a node reviewing the API server's agent token: %+v, %v", st, err)
	}
	st, err = as(s.Token).ReviewToken(ctx, "no-such-token")
	if err != nil || st.Authenticated || st.Error == "" {
		t.Fatalf("an unknown token: %+v, %v", st, err)
	}
	if _, err := as(plain).ReviewToken(ctx, node); !apierrors.IsForbidden(err) {
		t.Fatalf("a plain user may not review tokens: %v", err)
	}
	if _, err := as("").ReviewToken(ctx, node); !apierrors.IsUnauthorized(err) {
		t.Fatalf("without a token: %v", err)
	}
}
