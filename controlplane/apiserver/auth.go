package apiserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/weft-mesh/weft/controlplane/store"
)

// User is who a request comes from.
type User struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups,omitempty"`
}

// Well-known groups.
const (
	GroupAdmins = "system:masters"
	GroupNodes  = "system:nodes"
)

// Authenticator resolves a bearer token to a user.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (User, error)
}

// ErrBadToken means the request carried no token, or one the server does not know.
var ErrBadToken = errors.New("missing or unknown bearer token")

// tokenPrefix is where tokens live in the store, by SHA-256 of the token
// (the tokens themselves are never stored).
const tokenPrefix = "/weft/tokens/"

// Tokens keeps bearer tokens in the store.
type Tokens struct{ Store store.Store }

type tokenRecord struct {
	User    User      `json:"user"`
	Created time.Time `json:"created"`
}

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return tokenPrefix + hex.EncodeToString(sum[:])
}

// Authenticate implements Authenticator.
func (t Tokens) Authenticate(ctx context.Context, token string) (User, error) {
	if token == "" {
		return User{}, ErrBadToken
	}
	kv, err := t.Store.Get(ctx, tokenKey(token))
	if errors.Is(err, store.ErrNotFound) {
		return User{}, ErrBadToken
	}
	if err != nil {
		return User{}, fmt.Errorf("look up token: %w", err)
	}
	var rec tokenRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return User{}, fmt.Errorf("decode token record: %w", err)
	}
	return rec.User, nil
}

// Create makes a new random token for user and stores its hash.
func (t Tokens) Create(ctx context.Context, user User) (string, error) {
	token, err := RandomToken()
	if err != nil {
		return "", err
	}
	rec, _ := json.Marshal(tokenRecord{User: user, Created: time.Now().UTC()})
	if _, err := t.Store.Create(ctx, tokenKey(token), rec); err != nil {
		return "", fmt.Errorf("store token: %w", err)
	}
	return token, nil
}

type userKey struct{}

func withUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the authenticated user of a request context.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// StaticTokens are tokens held in memory only, for weftd's own components
// (controllers, scheduler, the local agent); they die with the process.
type StaticTokens map[string]User

// Authenticate implements Authenticator.
func (s StaticTokens) Authenticate(_ context.Context, token string) (User, error) {
	if u, ok := s[token]; ok && token != "" {
		return u, nil
	}
	return User{}, ErrBadToken
}

// Chain tries each Authenticator in turn.
type Chain []Authenticator

// Authenticate implements Authenticator.
func (c Chain) Authenticate(ctx context.Context, token string) (User, error) {
	for _, a := range c {
		u, err := a.Authenticate(ctx, token)
		if err == nil {
			return u, nil
		}
		if !errors.Is(err, ErrBadToken) {
			return User{}, err
		}
	}
	return User{}, ErrBadToken
}

// RandomToken returns a new random token (not stored anywhere).
func RandomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	return "weft_" + hex.EncodeToString(b), nil
}
