package agent

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/agent/runtime"
)

// The proxy admin of a pod's sidecar, for `weftctl proxy-config` (which
// weftd's API server proxies as pods/{name}/proxy-admin/{path}):
//
//	GET|POST /proxyAdmin/{namespace}/{pod}/{path...}
//
// forwards to the pod's weft-proxy admin API (/config_dump, /clusters,
// /listeners, /logging, ...), query included. Where the admin listens
// follows weft-proxy's own rules, read from the proxy container's running
// command line and environment: --admin-addr when given, else
// 127.0.0.1:15000 — moved to the pod IP in host network mode. In netns
// mode that is the pod's own loopback: the agent opens the connection from
// an OS thread that has joined the pod's network namespace, so the admin
// stays reachable from inside the pod (and the agent) only, as Istio keeps
// it.

// withProxyAdmin adds the proxy admin route to the agent's handler.
func (a *Agent) withProxyAdmin(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /proxyAdmin/{ns}/{pod}/{path...}", a.serveProxyAdmin)
	mux.HandleFunc("POST /proxyAdmin/{ns}/{pod}/{path...}", a.serveProxyAdmin)
	return mux
}

// proxyAdminTarget is where a pod's proxy admin answers.
type proxyAdminTarget struct {
	Addr  string // host:port
	NetNS string // the pod's network namespace; "" for the host's
}

func (a *Agent) serveProxyAdmin(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("pod")
	var pod *corev1.Pod
	a.mu.Lock()
	for _, wk := range a.workers {
		if p, _ := wk.desired(); p != nil && p.Namespace == ns && p.Name == name {
			pod = p
		}
	}
	a.mu.Unlock()
	if pod == nil {
		writeError(w, apierrors.NewNotFound(podsGR, name))
		return
	}
	if !hasSidecar(pod) {
		writeError(w, apierrors.NewBadRequest(fmt.Sprintf("pod %s has no %s container: it is not in the mesh", name, sidecarName)))
		return
	}
	obs, err := a.rt.Observe(string(pod.UID))
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	o, ok := obs[sidecarName]
	if !ok || !o.Running() {
		writeError(w, &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusServiceUnavailable, Reason: metav1.StatusReasonServiceUnavailable,
			Message: fmt.Sprintf("container %s of pod %s is not running", sidecarName, name)}})
		return
	}
	var rec podRecord
	_ = runtime.ReadJSON(filepath.Join(a.rt.PodDir(string(pod.UID)), podRecordFile), &rec)
	tgt, err := proxyAdminOf(o.Spec, rec.PodIP)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	if tgt.NetNS != "" {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialInNetns(ctx, tgt.NetNS, network, addr)
		}
	}
	target := &url.URL{Scheme: "http", Host: tgt.Addr, Path: "/" + r.PathValue("path"), RawQuery: r.URL.RawQuery}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
		},
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, ResponseHeaderTimeout: 30 * time.Second},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusServiceUnavailable, Reason: metav1.StatusReasonServiceUnavailable,
				Message: fmt.Sprintf("the proxy admin of pod %s at %s: %v", name, tgt.Addr, err)}})
		},
	}
	proxy.ServeHTTP(w, r)
}

// proxyAdminOf finds the admin address of a running weft-proxy from its
// run's spec, by weft-proxy's flag rules (cmd/weft-proxy).
func proxyAdminOf(spec runtime.Spec, podIP string) (proxyAdminTarget, error) {
	env := map[string]string{}
	for _, kv := range spec.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	fs := flag.NewFlagSet("weft-proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	adminAddr := fs.String("admin-addr", "127.0.0.1:15000", "")
	network := fs.String("network", mapOr(env, "WEFT_NETWORK", "host"), "")
	ip := fs.String("pod-ip", env["POD_IP"], "")
	// Every other flag of weft-proxy takes a value.
	args := []string{}
	if len(spec.Args) > 1 {
		args = spec.Args[1:]
	}
	for _, a := range args {
		n := strings.TrimLeft(a, "-")
		n, _, _ = strings.Cut(n, "=")
		if strings.HasPrefix(a, "-") && fs.Lookup(n) == nil {
			fs.String(n, "", "")
		}
	}
	if err := fs.Parse(args); err != nil {
		return proxyAdminTarget{}, fmt.Errorf("read the proxy's command line: %w", err)
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "admin-addr" })
	if *adminAddr == "" {
		return proxyAdminTarget{}, fmt.Errorf("the proxy's admin API is turned off (--admin-addr=\"\")")
	}
	if *ip == "" || strings.Contains(*ip, "$(") {
		*ip = podIP
	}
	addr := *adminAddr
	if !set && *network == "host" && *ip != "" {
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(*ip, port)
	}
	return proxyAdminTarget{Addr: addr, NetNS: spec.NetNS}, nil
}

func mapOr(env map[string]string, k, def string) string {
	if v := env[k]; v != "" {
		return v
	}
	return def
}

// dialInNetns connects to addr from inside the network namespace at
// nsPath. The socket is made by a goroutine locked to an OS thread that
// has joined the namespace; it stays in that namespace once the thread
// goes back. A thread that cannot go back is not unlocked, so Go ends it
// with the goroutine.
func dialInNetns(ctx context.Context, nsPath, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		c, restored, err := func() (net.Conn, bool, error) {
			self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
			if err != nil {
				return nil, true, fmt.Errorf("open the agent's network namespace: %w", err)
			}
			defer self.Close()
			target, err := os.Open(nsPath)
			if err != nil {
				return nil, true, fmt.Errorf("open the pod's network namespace: %w", err)
			}
			defer target.Close()
			if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
				return nil, true, fmt.Errorf("join the pod's network namespace %s: %w", nsPath, err)
			}
			c, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			return c, unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil, err
		}()
		if restored {
			goruntime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	res := <-ch
	return res.c, res.err
}
