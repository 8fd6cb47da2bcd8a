package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultAddrs(t *testing.T) {
	for _, tc := range []struct {
		ip, ports, port string
		want            []string
	}{
		{"127.20.0.1", "80,443", "", []string{"127.20.0.1:80", "127.20.0.1:443"}},
		{"", "", "8080", []string{":8080"}},
		{"", "", "", []string{":80"}},
	} {
		if got := defaultAddrs(tc.ip, tc.ports, tc.port); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("defaultAddrs(%q, %q, %q) = %q, want %q", tc.ip, tc.ports, tc.port, got, tc.want)
		}
	}
}

func get(t *testing.T, h http.Handler, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestFlaskapp(t *testing.T) {
	t.Setenv("version", "v1")
	if _, body := get(t, flaskapp(), "/env/version"); body != "v1" {
		t.Fatalf("/env/version = %q", body)
	}
}

func TestStatic(t *testing.T) {
	root := t.TempDir()
	// A host directory that is no volume is not served...
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("host's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, static(root, "1.14"), "/"); !strings.Contains(body, "Welcome to nginx!") {
		t.Fatalf("served the host's directory: %q", body)
	}
	os.Remove(filepath.Join(root, "index.html"))
	// ...one the agent hands over is.
	t.Setenv("WEFT_STATIC_ROOT", "1")
	h := static(root, "1.14")
	resp, body := get(t, h, "/")
	if resp.Header.Get("Server") != "nginx/1.14" || !strings.Contains(body, "Welcome to nginx!") {
		t.Fatalf("GET / = %q, Server %q", body, resp.Header.Get("Server"))
	}
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, h, "/"); body != "mine" {
		t.Fatalf("GET / = %q", body)
	}
}

func TestHTTPBin(t *testing.T) {
	if resp, _ := get(t, httpbinHandler(), "/status/418"); resp.StatusCode != 418 {
		t.Fatalf("/status/418 = %d", resp.StatusCode)
	}
}
