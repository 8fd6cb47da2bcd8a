package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weft-mesh/weft/agent/runtime"
)

// The agent's HTTP API, which weftd's API server proxies to:
//
//	GET  /healthz
//	GET  /containerLogs/{namespace}/{pod}?container=&follow=&previous=&tailLines=&timestamps=
//	POST /exec/{namespace}/{pod}?container=&command=...&stdin=   (Upgrade: weft-exec.v1)
//	GET  /stats/metrics    resource usage: {"node": NodeMetrics, "pods": [PodMetrics]}
//
// Errors are Kubernetes Status objects. Every path but /healthz needs a
// bearer token of system:masters, checked with weftd (authn.go): weftd's
// API server presents its own.
//
// Exec upgrades the connection (HTTP/1.1 "Connection: Upgrade", "Upgrade:
// weft-exec.v1", answered with 101 Switching Protocols) and then carries
// frames both ways: one byte of stream id, four bytes of big-endian
// length, the payload. Stream 0 is stdin (client to agent; an empty frame
// closes it), 1 stdout, 2 stderr, 3 the end: JSON {"exitCode": N} or
// {"exitCode": 126, "error": "..."}; the agent closes the connection
// after it.
const (
	ExecProtocol = "weft-exec.v1"
	StreamStdin  = 0
	StreamStdout = 1
	StreamStderr = 2
	StreamExit   = 3
)

// ExecResult is the payload of the exec stream's last frame.
type ExecResult struct {
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error,omitempty"`
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}", a.serveLogs)
	mux.HandleFunc("POST /exec/{ns}/{pod}", a.serveExec)
	mux.HandleFunc("GET /exec/{ns}/{pod}", a.serveExec)
	mux.HandleFunc("GET /stats/metrics", a.serveMetrics)
	return mux
}

func writeError(w http.ResponseWriter, se *apierrors.StatusError) {
	st := se.ErrStatus
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	st.Status = metav1.StatusFailure
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}

var podsGR = schema.GroupResource{Resource: "pods"}

// findContainer resolves a request's pod and container: the container
// may be left out when the pod has only one.
func (a *Agent) findContainer(r *http.Request) (*corev1.Pod, string, *apierrors.StatusError) {
	ns, name := r.PathValue("ns"), r.PathValue("pod")
	var pod *corev1.Pod
	a.mu.Lock()
	for _, w := range a.workers {
		if p, _ := w.desired(); p != nil && p.Namespace == ns && p.Name == name {
			pod = p
		}
	}
	a.mu.Unlock()
	if pod == nil {
		return nil, "", apierrors.NewNotFound(podsGR, name)
	}
	c := r.URL.Query().Get("container")
	if c == "" {
		switch d := pod.Annotations["kubectl.kubernetes.io/default-container"]; {
		case d != "" && containerOf(pod, d) != nil:
			c = d
		case len(pod.Spec.Containers) == 1:
			c = pod.Spec.Containers[0].Name
		default:
			var names []string
			for _, x := range pod.Spec.Containers {
				names = append(names, x.Name)
			}
			return nil, "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: [%s]", name, strings.Join(names, " ")))
		}
	}
	if containerOf(pod, c) == nil {
		return nil, "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", c, name))
	}
	return pod, c, nil
}

func (a *Agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	pod, c, se := a.findContainer(r)
	if se != nil {
		writeError(w, se)
		return
	}
	q := r.URL.Query()
	follow, previous, timestamps := q.Get("follow") == "true", q.Get("previous") == "true", q.Get("timestamps") == "true"
	tail := -1
	if s := q.Get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, apierrors.NewBadRequest("tailLines: want a non-negative number"))
			return
		}
		tail = n
	}
	uid := string(pod.UID)
	path, err := a.rt.LogPath(uid, c, previous)
	if err != nil {
		writeError(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(os.DevNull)
	}
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	br := bufio.NewReader(f)
	if tail >= 0 {
		lines := tailLines(br, tail)
		for _, l := range lines {
			writeLogLine(w, l, timestamps)
		}
	}
	var partial []byte
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			writeLogLine(w, append(partial, line...), timestamps)
			partial = nil
			continue
		}
		partial = append(partial, line...)
		if err == nil {
			continue
		}
		if flusher != nil {
			flusher.Flush()
		}
		if !follow || previous {
			return
		}
		// Follow while this run of the container is the latest and runs.
		if cur, _ := a.rt.LogPath(uid, c, false); cur != path || !a.rt.Running(uid, c) {
			// Drain what the shim wrote last.
			rest, _ := io.ReadAll(br)
			for _, l := range bytes.SplitAfter(append(partial, rest...), []byte("\n")) {
				if len(l) > 0 && l[len(l)-1] == '\n' {
					writeLogLine(w, l, timestamps)
				}
			}
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tailLines reads the rest of br and returns its last n log lines.
func tailLines(br *bufio.Reader, n int) [][]byte {
	if n == 0 {
		_, _ = io.Copy(io.Discard, br)
		return nil
	}
	ring := make([][]byte, 0, n)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if len(ring) == n {
				ring = append(ring[1:], line)
			} else {
				ring = append(ring, line)
			}
		}
		if err != nil {
			return ring
		}
	}
}

// writeLogLine turns a CRI log line ("TS STREAM F|P TEXT") into the text
// (a full line ends with a newline, a partial one does not).
func writeLogLine(w io.Writer, line []byte, timestamps bool) {
	parts := bytes.SplitN(bytes.TrimSuffix(line, []byte("\n")), []byte(" "), 4)
	if len(parts) < 4 {
		return
	}
	if timestamps {
		_, _ = w.Write(parts[0])
		_, _ = w.Write([]byte(" "))
	}
	_, _ = w.Write(parts[3])
	if string(parts[2]) == "F" {
		_, _ = w.Write([]byte("\n"))
	}
}

func (a *Agent) serveExec(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), ExecProtocol) {
		writeError(w, apierrors.NewBadRequest("exec wants Connection: Upgrade and Upgrade: "+ExecProtocol))
		return
	}
	pod, c, se := a.findContainer(r)
	if se != nil {
		writeError(w, se)
		return
	}
	q := r.URL.Query()
	argv := q["command"]
	if len(argv) == 0 {
		writeError(w, apierrors.NewBadRequest("exec: no command"))
		return
	}
	ctx, cancel := context.WithCancel(a.ctx)
	defer cancel()
	cmd, err := a.rt.ExecCommand(ctx, string(pod.UID), c, argv)
	if errors.Is(err, runtime.ErrNotRunning) {
		writeError(w, apierrors.NewBadRequest(fmt.Sprintf("unable to upgrade connection: container not found (%q)", c)))
		return
	}
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+ExecProtocol+"\r\n\r\n")
	fw := &frameWriter{w: conn}
	var stdinW *io.PipeWriter
	if q.Get("stdin") == "true" {
		var pr *io.PipeReader
		pr, stdinW = io.Pipe()
		cmd.Stdin = pr
	}
	cmd.Stdout, cmd.Stderr = fw.stream(StreamStdout), fw.stream(StreamStderr)
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		// Read stdin frames; a broken connection ends the command.
		for {
			stream, payload, err := ReadFrame(brw.Reader)
			if err != nil {
				if stdinW != nil {
					stdinW.Close()
				}
				cancel()
				return
			}
			if stream != StreamStdin || stdinW == nil {
				continue
			}
			if len(payload) == 0 {
				stdinW.Close()
				continue
			}
			if _, err := stdinW.Write(payload); err != nil {
				continue
			}
		}
	}()
	res := ExecResult{}
	err = cmd.Run()
	var ee interface{ ExitCode() int }
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		res.ExitCode = ee.ExitCode()
	default:
		res.ExitCode, res.Error = 126, err.Error()
	}
	b, _ := json.Marshal(res)
	_ = fw.write(StreamExit, b)
	_ = conn.Close()
	readers.Wait()
}

// frameWriter writes frames from several streams onto one connection.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) write(stream byte, p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return WriteFrame(f.w, stream, p)
}

func (f *frameWriter) stream(id byte) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		for len(p) > 0 {
			n := min(len(p), 32<<10)
			if err := f.write(id, p[:n]); err != nil {
				return 0, err
			}
			p = p[n:]
		}
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) {
	n := len(p)
	_, err := f(p)
	return n, err
}

// WriteFrame writes one exec frame.
func WriteFrame(w io.Writer, stream byte, p []byte) error {
	var hdr [5]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(p)
	return err
}

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// ReadFrame reads one exec frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("exec frame of %d bytes is too large", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return hdr[0], p, nil
}
