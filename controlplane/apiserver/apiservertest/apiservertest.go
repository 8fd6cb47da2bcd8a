// Package apiservertest starts a real API server over a real bbolt store in
// a test's temporary directory, on 127.0.0.1:0, for tests of the API's
// clients (weftctl, controllers, agents) that do not need a weftd process.
package apiservertest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// Server is a running test API server.
type Server struct {
	URL   string
	Token string // an admin token
	// AgentToken is what the server presents to node agents (an admin's).
	AgentToken string
	Store      *boltstore.Store
}

// Start serves the API until the test ends.
func Start(t testing.TB, opts boltstore.Options) *Server {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "weft.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tokens := apiserver.Tokens{Store: st}
	token, err := tokens.Create(context.Background(), apiserver.User{Name: "admin", Groups: []string{apiserver.GroupAdmins}})
	if err != nil {
		t.Fatal(err)
	}
	// The API server's own credential for node agents, as weftd's.
	agentToken, err := tokens.Create(context.Background(), apiserver.User{Name: "system:weftd", Groups: []string{apiserver.GroupAdmins}})
	if err != nil {
		t.Fatal(err)
	}
	s := apiserver.New(apiserver.Config{Store: st, Auth: tokens, AgentToken: agentToken})
	if err := s.EnsureNamespaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return &Server{URL: ts.URL, Token: token, AgentToken: agentToken, Store: st}
}

// Client returns an admin client.
func (s *Server) Client(t testing.TB) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
