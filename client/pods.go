package client

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/weft-mesh/weft/api"
)

// LogOptions select what Logs returns.
type LogOptions struct {
	Container  string
	Follow     bool
	Previous   bool
	Timestamps bool
	// TailLines, when not nil, returns only the last lines.
	TailLines *int64
}

// Logs streams a container's output (GET .../pods/{name}/log). The
// caller closes the reader; with Follow it ends when the container does.
func (c *Client) Logs(ctx context.Context, ns, pod string, opts LogOptions) (io.ReadCloser, error) {
	q := url.Values{}
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Previous {
		q.Set("previous", "true")
	}
	if opts.Timestamps {
		q.Set("timestamps", "true")
	}
	if opts.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*opts.TailLines, 10))
	}
	resp, err := c.do(ctx, c.watchHC, http.MethodGet, Path(api.LookupName("pods"), ns, pod)+"/log", q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ExecOptions say what Exec runs and where its streams go.
type ExecOptions struct {
	Container string
	Command   []string
	// Stdin, when set, is sent to the command; its end closes the
	// command's stdin.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// ExecProtocol is the exec stream's upgrade token (see the API server's
// podproxy.go for the framing).
const ExecProtocol = "weft-exec.v1"

// Exec streams.
const (
	execStdin  = 0
	execStdout = 1
	execStderr = 2
	execExit   = 3
)

// ExitError is returned by Exec when the command ran and exited non-zero.
type ExitError struct{ Code int }

func (e *ExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}

// Exec runs a command in a pod's container (POST .../pods/{name}/exec),
// streaming stdin, stdout and stderr, and returns its exit code: 0 and a
// nil error on success, an *ExitError for a non-zero exit.
func (c *Client) Exec(ctx context.Context, ns, pod string, opts ExecOptions) (int, error) {
	if len(opts.Command) == 0 {
		return 0, errors.New("exec: no command")
	}
	q := url.Values{"command": opts.Command}
	if opts.Container != "" {
		q.Set("container", opts.Container)
	}
	if opts.Stdin != nil {
		q.Set("stdin", "true")
	}
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + Path(api.LookupName("pods"), ns, pod) + "/exec"
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", ExecProtocol)
	resp, err := c.watchHC.Do(req)
	if err != nil {
		return 0, fmt.Errorf("exec: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer resp.Body.Close()
		return 0, readStatus(resp)
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		resp.Body.Close()
		return 0, errors.New("exec: the server did not upgrade the connection")
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var wmu sync.Mutex
	send := func(stream byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		var hdr [5]byte
		hdr[0] = stream
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
		if _, err := conn.Write(hdr[:]); err != nil {
			return err
		}
		_, err := conn.Write(p)
		return err
	}
	if opts.Stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := opts.Stdin.Read(buf)
				if n > 0 {
					if send(execStdin, buf[:n]) != nil {
						return
					}
				}
				if err != nil {
					_ = send(execStdin, nil)
					return
				}
			}
		}()
	}
	br := bufio.NewReader(conn)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("exec: the stream ended without an exit status: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > 1<<20 {
			return 0, fmt.Errorf("exec: frame of %d bytes is too large", n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0, fmt.Errorf("exec: %w", err)
		}
		switch hdr[0] {
		case execStdout:
			if opts.Stdout != nil {
				_, _ = opts.Stdout.Write(p)
			}
		case execStderr:
			if opts.Stderr != nil {
				_, _ = opts.Stderr.Write(p)
			}
		case execExit:
			var res struct {
				ExitCode int    `json:"exitCode"`
				Error    string `json:"error"`
			}
			if err := json.Unmarshal(p, &res); err != nil {
				return 0, fmt.Errorf("exec: exit status: %w", err)
			}
			if res.Error != "" {
				return res.ExitCode, fmt.Errorf("exec: %s", res.Error)
			}
			if res.ExitCode != 0 {
				return res.ExitCode, &ExitError{Code: res.ExitCode}
			}
			return 0, nil
		}
	}
}
