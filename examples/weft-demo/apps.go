package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mccutchen/go-httpbin/v2/httpbin"
)

// flaskapp answers GET /env/<NAME> with that environment variable, as
// the dustise/flaskapp image of the seeds does.
func flaskapp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /env/{name}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, os.Getenv(r.PathValue("name")))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		host, _ := os.Hostname()
		fmt.Fprintf(w, "flaskapp on %s (%s)\n", os.Getenv("HOSTNAME"), host)
	})
	return accessLog(mux)
}

// accessLog prints one line per request on stdout (`weftctl logs` shows
// them): time, method, Host, path — a mirrored copy shows its -shadow Host.
func accessLog(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("%s %s %s %s\n", time.Now().UTC().Format(time.RFC3339), r.Method, r.Host, r.URL.RequestURI())
		h.ServeHTTP(w, r)
	})
}

func httpbinHandler() http.Handler {
	return httpbin.New(httpbin.WithMaxDuration(2 * time.Minute))
}

// static serves root like nginx does, saying so in its Server header
// with the image's tag (so a rolling update shows).
func static(root, tag string) http.Handler {
	if tag == "" {
		tag = "latest"
	}
	if !servesVolume(root) {
		// The host's own directory is not the image's: serve only the
		// image's welcome page (a host with Debian's nginx has an
		// index.html there that the nginx image would not).
		root = os.DevNull
	}
	files := http.FileServer(http.Dir(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx/"+tag)
		if r.URL.Path == "/_weft/burn" {
			ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
			burn(time.Duration(min(max(ms, 0), 10000)) * time.Millisecond)
			_, _ = io.WriteString(w, "ok\n")
			return
		}
		if r.URL.Path == "/" || r.URL.Path == "/index.html" {
			if _, err := os.Stat(root + "/index.html"); err != nil {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, welcome(tag))
				return
			}
		}
		files.ServeHTTP(w, r)
	})
}

func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := 0; i < 1000; i++ {
			x += i * i
		}
	}
	_ = x
}

func welcome(tag string) string {
	return strings.ReplaceAll(`<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>Served by weft-demo static, standing in for nginx:TAG.</p>
</body>
</html>
`, "TAG", tag)
}

// servesVolume reports whether root is where a volume is mounted in this
// container (the agent bind-mounts volumes at their mountPath in a private
// mount namespace), or an explicit directory the host owns for us
// (WEFT_STATIC_ROOT=any). Without either, root is the host's directory.
func servesVolume(root string) bool {
	if os.Getenv("WEFT_STATIC_ROOT") != "" {
		return true
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	clean := filepath.Clean(root)
	for _, line := range strings.Split(string(b), "\n") {
		// id parent major:minor root mountpoint options ...
		if f := strings.Fields(line); len(f) > 4 && f[4] == clean {
			return true
		}
	}
	return false
}
