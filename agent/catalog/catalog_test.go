package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*nginx*", "10.0.0.101:5000/nginx", true},
		{"*nginx*", "nginx", true},
		{"*dustise/flaskapp*", "registry.ioros.com/docker.io/dustise/flaskapp", true},
		{"*busybox*", "registry.ioros.com/docker.io/busybox", true},
		{"weft/proxy", "weft/proxy", true},
		{"weft/proxy", "x/weft/proxy", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"", "x", false},
	} {
		if got := Glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestSplitImage(t *testing.T) {
	for _, tc := range []struct{ in, repo, tag string }{
		{"nginx", "nginx", "latest"},
		{"nginx:1.14", "nginx", "1.14"},
		{"10.0.0.101:5000/nginx:1.14", "10.0.0.101:5000/nginx", "1.14"},
		{"10.0.0.101:5000/alpine", "10.0.0.101:5000/alpine", "latest"},
		{"busybox@sha256:abc", "busybox", "sha256:abc"},
	} {
		repo, tag := SplitImage(tc.in)
		if repo != tc.repo || tag != tc.tag {
			t.Errorf("SplitImage(%q) = %q, %q; want %q, %q", tc.in, repo, tag, tc.repo, tc.tag)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(dir, "weft-demo")
	if err := os.WriteFile(demo, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "images.yaml")
	if err := os.WriteFile(extra, []byte("images:\n- pattern: \"*mycorp/app*\"\n  entrypoint: [/opt/app]\n  cmd: [--serve]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Options{File: extra, Dirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		image         string
		command, args []string
		want          []string
		notFound      bool
	}{
		{name: "flaskapp from the catalogue", image: "registry.ioros.com/docker.io/dustise/flaskapp", want: []string{demo, "flaskapp"}},
		{name: "nginx with a tag", image: "10.0.0.101:5000/nginx:1.14", want: []string{demo, "static"}},
		{name: "busybox default", image: "busybox", want: []string{"sleep", "infinity"}},
		{name: "busybox args replace cmd", image: "registry.ioros.com/docker.io/busybox", args: []string{"/bin/sh", "-c", "true"}, want: []string{"/bin/sh", "-c", "true"}},
		{name: "command wins", image: "nginx:1.20", command: []string{"sleep"}, args: []string{"20"}, want: []string{"sleep", "20"}},
		{name: "unknown image with a command runs it", image: "hub.example/unknown", command: []string{"true"}, want: []string{"true"}},
		{name: "extra file entry", image: "mycorp/app:2", want: []string{"/opt/app", "--serve"}},
		{name: "extra file entry with args", image: "mycorp/app:2", args: []string{"-v"}, want: []string{"/opt/app", "-v"}},
		{name: "unknown image", image: "hub.example/unknown:1", notFound: true},
		{name: "unknown image with only args", image: "hub.example/unknown:1", args: []string{"x"}, notFound: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Resolve(tc.image, tc.command, tc.args)
			if tc.notFound {
				if !errors.Is(err, ErrImageNotFound) || !strings.Contains(err.Error(), "catalogue") {
					t.Fatalf("err = %v, want ErrImageNotFound naming the catalogue", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadRejectsBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("images:\n- entrypoint: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Options{File: p}); err == nil || !strings.Contains(err.Error(), "pattern") {
		t.Fatalf("err = %v, want a complaint about the missing pattern", err)
	}
}
