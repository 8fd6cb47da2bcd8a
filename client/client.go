package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// Client talks to weftd's API.
type Client struct {
	base  *url.URL
	token string
	hc    *http.Client
	// watch uses a client without a response timeout.
	watchHC *http.Client
}

// New returns a client for the server URL (e.g. http://127.0.0.1:7780).
func New(server, token string) (*Client, error) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("server %q: want a URL such as http://127.0.0.1:7780", server)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	return &Client{
		base: u, token: token,
		hc:      &http.Client{Transport: tr, Timeout: 60 * time.Second},
		watchHC: &http.Client{Transport: tr},
	}, nil
}

// Server is the server URL.
func (c *Client) Server() string { return c.base.String() }

// ListOptions narrows a list or watch.
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// ResourceVersion: for Watch, stream changes after it ("" or "0": start
	// with the current objects as ADDED events).
	ResourceVersion string
}

// Path is the API path of a kind's collection in namespace ns ("" for all
// namespaces or cluster-scoped kinds), plus name when given.
func Path(k *api.Kind, ns, name string) string {
	p := "/api/v1"
	if k.Group != "" {
		p = "/apis/" + k.Group + "/" + k.Version
	}
	if k.Namespaced && ns != "" {
		p += "/namespaces/" + ns
	}
	p += "/" + k.Resource
	if name != "" {
		p += "/" + name
	}
	return p
}

// Response is what a write returned besides the object.
type Response struct {
	Warnings []string
	// ApplyResult is "created", "configured" or "unchanged" for Apply.
	ApplyResult string
}

func (c *Client) do(ctx context.Context, hc *http.Client, method, path string, query url.Values, body []byte, contentType string) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, readStatus(resp)
	}
	return resp, nil
}

// readStatus turns an error response into an *apierrors.StatusError.
func readStatus(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var st metav1.Status
	if err := json.Unmarshal(b, &st); err == nil && st.Kind == "Status" {
		return &apierrors.StatusError{ErrStatus: st}
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: int32(resp.StatusCode), Reason: metav1.StatusReasonUnknown,
		Message: fmt.Sprintf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(b))),
	}}
}

func warnings(resp *http.Response) []string {
	var out []string
	for _, h := range resp.Header.Values("Warning") {
		// 299 - "text"
		if i := strings.Index(h, `"`); i >= 0 {
			h = strings.TrimSuffix(h[i+1:], `"`)
		}
		out = append(out, h)
	}
	return out
}

func (c *Client) object(ctx context.Context, method, path string, body []byte, contentType string) (api.Object, Response, error) {
	resp, err := c.do(ctx, c.hc, method, path, nil, body, contentType)
	if err != nil {
		return nil, Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, Response{}, fmt.Errorf("read response: %w", err)
	}
	obj, err := api.Decode(b)
	if err != nil {
		return nil, Response{}, fmt.Errorf("decode response: %w", err)
	}
	return obj, Response{Warnings: warnings(resp), ApplyResult: resp.Header.Get("X-Weft-Apply-Result")}, nil
}

// Get reads one object.
func (c *Client) Get(ctx context.Context, k *api.Kind, ns, name string) (api.Object, error) {
	obj, _, err := c.object(ctx, http.MethodGet, Path(k, ns, name), nil, "")
	return obj, err
}

// Create stores a new object.
func (c *Client) Create(ctx context.Context, obj api.Object) (api.Object, Response, error) {
	k, body, err := encodeFor(obj)
	if err != nil {
		return nil, Response{}, err
	}
	return c.object(ctx, http.MethodPost, Path(k, obj.GetNamespace(), ""), body, "application/json")
}

// Update replaces an object (a conflict if its resourceVersion is stale).
func (c *Client) Update(ctx context.Context, obj api.Object) (api.Object, Response, error) {
	k, body, err := encodeFor(obj)
	if err != nil {
		return nil, Response{}, err
	}
	return c.object(ctx, http.MethodPut, Path(k, obj.GetNamespace(), obj.GetName()), body, "application/json")
}

// UpdateStatus replaces an object's status.
func (c *Client) UpdateStatus(ctx context.Context, obj api.Object) (api.Object, error) {
	k, body, err := encodeFor(obj)
	if err != nil {
		return nil, err
	}
	out, _, err := c.object(ctx, http.MethodPut, Path(k, obj.GetNamespace(), obj.GetName())+"/status", body, "application/json")
	return out, err
}

// Apply creates or configures an object the way `kubectl apply` does.
func (c *Client) Apply(ctx context.Context, obj api.Object) (api.Object, Response, error) {
	k, body, err := encodeFor(obj)
	if err != nil {
		return nil, Response{}, err
	}
	return c.object(ctx, http.MethodPatch, Path(k, obj.GetNamespace(), obj.GetName()), body, "application/apply-patch+yaml")
}

// Delete removes an object and returns its last state. A pod on a node
// is deleted gracefully: it gets a deletionTimestamp and stays until its
// node's agent has stopped it (see DeleteWith).
func (c *Client) Delete(ctx context.Context, k *api.Kind, ns, name string) (api.Object, error) {
	return c.DeleteWith(ctx, k, ns, name, DeleteOptions{})
}

// DeleteOptions tune a delete.
type DeleteOptions struct {
	// GracePeriodSeconds overrides a pod's terminationGracePeriodSeconds;
	// 0 removes it at once (kubectl's --grace-period=0 --force).
	GracePeriodSeconds *int64
}

// DeleteWith is Delete with options.
func (c *Client) DeleteWith(ctx context.Context, k *api.Kind, ns, name string, opts DeleteOptions) (api.Object, error) {
	q := url.Values{}
	if opts.GracePeriodSeconds != nil {
		q.Set("gracePeriodSeconds", strconv.FormatInt(*opts.GracePeriodSeconds, 10))
	}
	resp, err := c.do(ctx, c.hc, http.MethodDelete, Path(k, ns, name), q, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return api.Decode(b)
}

func encodeFor(obj api.Object) (*api.Kind, []byte, error) {
	k := api.KindOf(obj)
	if k == nil {
		return nil, nil, fmt.Errorf("%w: %T", api.ErrUnknownKind, obj)
	}
	obj, err := api.ToStorage(obj) // e.g. an autoscaling/v1 HPA becomes v2
	if err != nil {
		return nil, nil, err
	}
	obj, err = api.ToVersion(obj, k.Version)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s/%s: %w", k.Kind, obj.GetName(), err)
	}
	return k, b, nil
}

// List reads a collection; the string is the list's resourceVersion.
func (c *Client) List(ctx context.Context, k *api.Kind, ns string, opts ListOptions) ([]api.Object, string, error) {
	resp, err := c.do(ctx, c.hc, http.MethodGet, Path(k, ns, ""), opts.query(), nil, "")
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var list struct {
		Metadata metav1.ListMeta   `json:"metadata"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, "", fmt.Errorf("decode %s list: %w", k.Resource, err)
	}
	items := make([]api.Object, 0, len(list.Items))
	for _, raw := range list.Items {
		obj, err := api.Decode(raw)
		if err != nil {
			return nil, "", fmt.Errorf("decode %s list item: %w", k.Resource, err)
		}
		items = append(items, obj)
	}
	return items, list.Metadata.ResourceVersion, nil
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	return q
}

// Event is one change seen by Watch. A watch that ends with an error sends
// an Event with Err set (an *apierrors.StatusError for "too old", 410) and
// closes the channel.
type Event struct {
	Type   string // ADDED, MODIFIED, DELETED
	Object api.Object
	Err    error
}

// Watch streams changes until ctx ends or the server closes the stream
// (then the channel closes; re-list and watch again).
func (c *Client) Watch(ctx context.Context, k *api.Kind, ns string, opts ListOptions) (<-chan Event, error) {
	q := opts.query()
	q.Set("watch", "true")
	resp, err := c.do(ctx, c.watchHC, http.MethodGet, Path(k, ns, ""), q, nil, "")
	if err != nil {
		return nil, err
	}
	ch := make(chan Event)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var line struct {
				Type   string          `json:"type"`
				Object json.RawMessage `json:"object"`
			}
			ev := Event{}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				ev.Err = fmt.Errorf("decode watch event: %w", err)
			} else if line.Type == "ERROR" {
				var st metav1.Status
				_ = json.Unmarshal(line.Object, &st)
				ev.Err = &apierrors.StatusError{ErrStatus: st}
			} else {
				ev.Type = line.Type
				ev.Object, err = api.Decode(line.Object)
				if err != nil {
					ev.Err = fmt.Errorf("decode watch event: %w", err)
				}
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
			if ev.Err != nil {
				return
			}
		}
		if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, io.EOF) {
			select {
			case ch <- Event{Err: fmt.Errorf("watch %s: %w", k.Resource, err)}:
			case <-ctx.Done():
			}
		}
	}()
	return ch, nil
}

// Raw does a GET of any API path and returns the body (discovery, version).
func (c *Client) Raw(ctx context.Context, path string) ([]byte, error) {
	resp, err := c.do(ctx, c.hc, http.MethodGet, path, nil, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Bind assigns a pod to a node (the scheduler's binding subresource). A pod
// that is already bound is a conflict.
func (c *Client) Bind(ctx context.Context, ns, pod, node string) error {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Binding",
		"metadata": map[string]string{"name": pod, "namespace": ns},
		"target":   map[string]string{"kind": "Node", "name": node},
	})
	resp, err := c.do(ctx, c.hc, http.MethodPost, Path(api.LookupName("pods"), ns, pod)+"/binding", nil, b, "application/json")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// ReviewToken asks the API server who a bearer token belongs to (a
// TokenReview, as a kubelet's webhook authentication does). An unknown
// token is Authenticated false, not an error.
func (c *Client) ReviewToken(ctx context.Context, token string) (authnv1.TokenReviewStatus, error) {
	b, _ := json.Marshal(&authnv1.TokenReview{
		TypeMeta: metav1.TypeMeta{Kind: "TokenReview", APIVersion: authnv1.SchemeGroupVersion.String()},
		Spec:     authnv1.TokenReviewSpec{Token: token},
	})
	resp, err := c.do(ctx, c.hc, http.MethodPost, "/apis/authentication.k8s.io/v1/tokenreviews", nil, b, "application/json")
	if err != nil {
		return authnv1.TokenReviewStatus{}, fmt.Errorf("review token: %w", err)
	}
	defer resp.Body.Close()
	var tr authnv1.TokenReview
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return authnv1.TokenReviewStatus{}, fmt.Errorf("review token: %w", err)
	}
	return tr.Status, nil
}
