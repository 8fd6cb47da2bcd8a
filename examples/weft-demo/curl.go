package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Exit codes of curl that curlMain reproduces, so scripts read alike.
const (
	curlOK          = 0
	curlUsage       = 2
	curlResolve     = 6
	curlConnect     = 7
	curlHTTPError   = 22
	curlTimeout     = 28
	curlOtherFailed = 56
)

// curlMain is "weft-demo curl [-f] [-s] [-m SECONDS] [-X METHOD] [-H 'K: V']... URL":
// a small curl for pods without one (the process runtime has no images to
// bring it). It prints the body; -f fails (22) on HTTP statuses of 400 and
// above. It honours HTTP_PROXY like curl.
func curlMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("curl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fail := fs.Bool("f", false, "fail (exit 22) on HTTP errors")
	_ = fs.Bool("s", false, "silent (the default)")
	maxTime := fs.Float64("m", 10, "maximum time in seconds")
	method := fs.String("X", http.MethodGet, "request method")
	var headers listFlag
	fs.Var(&headers, "H", "header 'Name: value' (repeatable)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: weft-demo curl [-f] [-m SECONDS] [-X METHOD] [-H 'K: V']... URL")
		return curlUsage
	}
	url := fs.Arg(0)
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(*maxTime*float64(time.Second)))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, *method, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return curlUsage
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		if strings.EqualFold(strings.TrimSpace(k), "host") {
			req.Host = strings.TrimSpace(v)
			continue
		}
		req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return curlExitCode(err)
	}
	defer resp.Body.Close()
	if *fail && resp.StatusCode >= 400 {
		fmt.Fprintf(stderr, "curl: (22) The requested URL returned error: %d\n", resp.StatusCode)
		return curlHTTPError
	}
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return curlExitCode(err)
	}
	return curlOK
}

func curlExitCode(err error) int {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return curlTimeout
	case errors.As(err, &dnsErr):
		return curlResolve
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return curlConnect
	}
	return curlOtherFailed
}
