package bookinfo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// Port is where the services listen by default.
const Port = "9080"

// The sample's timeouts.
const (
	// productpageTimeout bounds each call of productpage (requests' timeout=3.0).
	productpageTimeout = 3 * time.Second
	// productpageReviewsTries is how often productpage asks reviews before
	// giving up ("bug introduced explicitly for illustration").
	productpageReviewsTries = 2
	// reviewsBlackTimeout and reviewsColorTimeout bound reviews' call of
	// ratings: 10 s with black stars (v2), 2.5 s otherwise (v3).
	reviewsBlackTimeout = 10 * time.Second
	reviewsColorTimeout = 2500 * time.Millisecond
	// ratingsDelay is the delay of ratings v-delayed.
	ratingsDelay = 7 * time.Second
)

// ErrUsage is returned for arguments (or an image) that name no Bookinfo
// service.
var ErrUsage = errors.New("usage: weft-demo bookinfo productpage|details|reviews|ratings [VERSION] (or run from an examples-bookinfo-<service>-<version> image)")

// Args returns the service and version from the arguments (service and
// optional version, v1 by default), else from the image reference.
func Args(args []string, image string) (service, version string, err error) {
	switch len(args) {
	case 0:
		repo := image
		if i := strings.Index(repo, "@"); i >= 0 {
			repo = repo[:i]
		}
		repo = repo[strings.LastIndex(repo, "/")+1:]
		if i := strings.Index(repo, ":"); i >= 0 {
			repo = repo[:i]
		}
		rest, ok := strings.CutPrefix(repo, "examples-bookinfo-")
		if !ok {
			return "", "", ErrUsage
		}
		service, version, _ = strings.Cut(rest, "-")
	case 1:
		service = args[0]
	case 2:
		service, version = args[0], args[1]
	default:
		return "", "", ErrUsage
	}
	if version == "" {
		version = "v1"
	}
	return service, version, nil
}

// New returns the handler of one Bookinfo service configured from getenv,
// logging to logw.
func New(service, version string, getenv func(string) string, logw io.Writer) (http.Handler, error) {
	env := environ(getenv)
	logger := log.New(logw, "", 0)
	check := func(versions ...string) error {
		if slices.Contains(versions, version) {
			return nil
		}
		return fmt.Errorf("%s has no version %q (%s)", service, version, strings.Join(versions, ", "))
	}
	switch service {
	case "productpage":
		if err := check("v1"); err != nil {
			return nil, err
		}
		p := newProductpage(env, logger)
		logger.Printf("bookinfo productpage %s: details at %s, reviews at %s, ratings at %s", version, p.details, p.reviews, p.ratings)
		return p.handler(), nil
	case "details":
		if err := check("v1", "v2"); err != nil {
			return nil, err
		}
		if version != "v1" || env("ENABLE_EXTERNAL_BOOK_SERVICE") == "true" {
			logger.Printf("bookinfo details %s: the external book service (Google Books) is not emulated; serving the v1 details", version)
		} else {
			logger.Printf("bookinfo details %s", version)
		}
		return detailsHandler(), nil
	case "reviews":
		if err := check("v1", "v2", "v3"); err != nil {
			return nil, err
		}
		r := newReviews(version, env, logger)
		logger.Printf("bookinfo reviews %s: ratings enabled %t, star color %s, ratings at %s (timeout %s)", version, r.ratingsEnabled, r.starColor, r.ratings, r.timeout)
		return r.handler(), nil
	case "ratings":
		if err := check("v1", "v2", "v2-mysql", "v2-mysql-vm", "v-faulty", "v-delayed", "v-unavailable", "v-unhealthy"); err != nil {
			return nil, err
		}
		r := newRatings(version, env, logger)
		if r.mode == "v2" {
			logger.Printf("bookinfo ratings %s: the ratings database is not emulated; serving the v1 ratings from memory (the ones the sample database holds)", version)
		} else {
			logger.Printf("bookinfo ratings %s (service version %s)", version, r.mode)
		}
		return r.handler(), nil
	}
	return nil, fmt.Errorf("unknown service %q: %w", service, ErrUsage)
}

// environ reads the environment.
type environ func(string) string

// or returns the first set variable of keys, else def.
func (e environ) or(def string, keys ...string) string {
	for _, k := range keys {
		if v := e(k); v != "" {
			return v
		}
	}
	return def
}

// upstream is the base URL of a Bookinfo service as the sample builds it:
// http://<NAME>_HOSTNAME<.SERVICES_DOMAIN>:<NAME>_SERVICE_PORT.
func (e environ) upstream(name string) string {
	upper := strings.ToUpper(name)
	host := e.or(name, upper+"_HOSTNAME")
	if d := e("SERVICES_DOMAIN"); d != "" {
		host += "." + d
	}
	return "http://" + net.JoinHostPort(host, e.or(Port, upper+"_SERVICE_PORT"))
}

// client is the HTTP client of a service: through $HTTP_PROXY when set
// (loopback destinations excepted, as Go's http.ProxyFromEnvironment), a
// connection per request as the sample ("we intentionally do not pool").
func (e environ) client() *http.Client {
	proxy := (&httpproxy.Config{
		HTTPProxy:  e.or("", "HTTP_PROXY", "http_proxy"),
		HTTPSProxy: e.or("", "HTTPS_PROXY", "https_proxy"),
		NoProxy:    e.or("", "NO_PROXY", "no_proxy"),
	}).ProxyFunc()
	return &http.Client{Transport: &http.Transport{
		Proxy:             func(r *http.Request) (*url.URL, error) { return proxy(r.URL) },
		DialContext:       (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		DisableKeepAlives: true,
	}}
}

// propagatedHeaders are the headers Bookinfo's services forward to the
// services they call: trace context (W3C, B3, Lightstep, Datadog, Cloud
// Trace, gRPC, SkyWalking), x-request-id and the session's headers.
// productpage sets end-user from its session; reviews forwards it.
var propagatedHeaders = []string{
	"x-request-id",
	"x-ot-span-context",
	"x-datadog-trace-id", "x-datadog-parent-id", "x-datadog-sampling-priority",
	"traceparent", "tracestate",
	"x-cloud-trace-context",
	"grpc-trace-bin",
	"b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
	"sw8",
	"user-agent",
	"cookie", "authorization", "jwt",
}

// forward copies the named headers of src, every value unchanged, into dst.
func forward(dst, src http.Header, names []string) {
	for _, n := range names {
		for _, v := range src.Values(n) {
			dst.Add(n, v)
		}
	}
}

// fetch GETs url with the headers, giving up after timeout (or when ctx
// ends). It returns the answer's status and body, or an error when there
// was no complete answer.
func fetch(ctx context.Context, c *http.Client, url string, h http.Header, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, vs := range h {
		req.Header[k] = slices.Clone(vs)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, body, nil
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
