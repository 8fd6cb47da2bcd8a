package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// Pod subresources served by the node agent that runs the pod, which the
// API server proxies to (as kube-apiserver proxies to the kubelet):
//
//	GET  /api/v1/namespaces/{ns}/pods/{name}/log?container=&follow=&previous=&tailLines=&timestamps=
//	     the container's output as text; with follow=true the body streams
//	     until the container ends or the client goes away.
//	POST /api/v1/namespaces/{ns}/pods/{name}/exec?container=&command=CMD&command=ARG...&stdin=true
//	     with "Connection: Upgrade" and "Upgrade: weft-exec.v1". The answer
//	     is 101 Switching Protocols; then both sides exchange frames: one
//	     byte of stream id, four bytes of big-endian payload length, the
//	     payload. Stream 0 is stdin (client to server; an empty frame closes
//	     it), 1 stdout, 2 stderr, 3 the end — JSON {"exitCode": N} (with
//	     "error" when the command could not run) — after which the
//	     connection closes. Errors before the upgrade are Status objects.
//	GET|POST /api/v1/namespaces/{ns}/pods/{name}/proxy-admin/{path...}?QUERY
//	     the pod's weft-proxy admin API at /{path}?QUERY (config_dump,
//	     clusters, listeners, logging, ...), for `weftctl proxy-config`.
//
// The agent's address is the InternalIP of the pod's Node with the port in
// status.daemonEndpoints.kubeletEndpoint. The caller's credentials are not
// forwarded: the API server presents its own (Config.AgentToken), which
// the agent checks with a TokenReview, as a kubelet does.
func (s *Server) podProxy(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Kind.Kind != "Pod" || info.Name == "" {
		writeStatus(w, apierrors.NewNotFound(schemaGR(info.Kind), info.Name))
		return
	}
	var agentPath string
	switch {
	case info.Subresource == "log" && r.Method == http.MethodGet:
		agentPath = "/containerLogs/"
	case info.Subresource == "exec" && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		agentPath = "/exec/"
	case info.Subresource == "proxy-admin" && (r.Method == http.MethodPost || r.Method == http.MethodGet):
		agentPath = "/proxyAdmin/"
	default:
		writeStatus(w, apierrors.NewMethodNotSupported(schemaGR(info.Kind), r.Method))
		return
	}
	obj, err := s.get(r.Context(), info.Kind, info.Namespace, info.Name)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName == "" {
		writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name)))
		return
	}
	base, err := s.agentURL(r.Context(), pod.Spec.NodeName)
	if err != nil {
		writeStatus(w, statusError(err, info.Kind, info.Name))
		return
	}
	target := *base
	target.Path = agentPath + url.PathEscape(pod.Namespace) + "/" + url.PathEscape(pod.Name)
	if info.Subresource == "proxy-admin" {
		_, rest, _ := strings.Cut(r.URL.Path, "/pods/"+info.Name+"/proxy-admin")
		target.Path += "/" + strings.TrimPrefix(rest, "/")
	}
	target.RawQuery = r.URL.RawQuery
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &target
			pr.Out.Host = target.Host
			setAgentAuth(pr.Out.Header, s.cfg.AgentToken)
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusServiceUnavailable, Reason: metav1.StatusReasonServiceUnavailable,
				Message: fmt.Sprintf("error dialing backend: the agent of node %s at %s: %v", pod.Spec.NodeName, target.Host, err)}})
		},
	}
	proxy.ServeHTTP(w, r)
}

// errNoAgent means a node has not published its agent's address.
var errNoAgent = errors.New("the node has not published its agent's address")

// agentURL is the base URL of the agent serving node.
func (s *Server) agentURL(ctx context.Context, node string) (*url.URL, error) {
	obj, err := s.get(ctx, api.LookupName("nodes"), "", node)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q not found: no agent serves it", node))
	}
	if err != nil {
		return nil, err
	}
	return nodeAgentURL(obj.(*corev1.Node))
}

func nodeAgentURL(n *corev1.Node) (*url.URL, error) {
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	ip := ""
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			ip = a.Address
			break
		}
	}
	if ip == "" || port <= 0 {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q: %v", n.Name, errNoAgent))
	}
	return &url.URL{Scheme: "http", Host: net.JoinHostPort(ip, strconv.Itoa(int(port)))}, nil
}

// agentClient fetches from agents (metrics).
var agentClient = &http.Client{Timeout: 5 * time.Second}
