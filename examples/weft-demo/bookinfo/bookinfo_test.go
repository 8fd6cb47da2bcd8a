package bookinfo

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps the headers of the requests a service received (the
// tests' window on propagation).
type recorder struct {
	mu   sync.Mutex
	seen []http.Header
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Header.Clone())
		rec.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (rec *recorder) requests() []http.Header {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]http.Header(nil), rec.seen...)
}

// last is the headers of the last request; it fails when there was none.
func (rec *recorder) last(t *testing.T, service string) http.Header {
	t.Helper()
	reqs := rec.requests()
	if len(reqs) == 0 {
		t.Fatalf("%s received no request", service)
	}
	return reqs[len(reqs)-1]
}

type service struct {
	srv *httptest.Server
	rec *recorder
}

// start runs a Bookinfo service on 127.0.0.1:0 with the given environment.
func start(t *testing.T, name, version string, env map[string]string) service {
	t.Helper()
	h, err := New(name, version, mapEnv(env).get, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return serveRecorded(t, h)
}

func serveRecorded(t *testing.T, h http.Handler) service {
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(h))
	t.Cleanup(srv.Close)
	return service{srv, rec}
}

// hung is a service that never answers (until the test ends).
func hung(t *testing.T) service {
	done := make(chan struct{})
	s := serveRecorded(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done) }) // runs before the server's Close
	return s
}

// down is the address of a service that is not running.
func down(t *testing.T) service {
	s := serveRecorded(t, http.NotFoundHandler())
	s.srv.Close()
	return s
}

// at is the environment pointing a service's upstream name at s, as the
// sample's <NAME>_HOSTNAME and <NAME>_SERVICE_PORT do.
func at(env map[string]string, name string, s service) map[string]string {
	host, port, _ := net.SplitHostPort(s.srv.Listener.Addr().String())
	upper := strings.ToUpper(name)
	env[upper+"_HOSTNAME"], env[upper+"_SERVICE_PORT"] = host, port
	return env
}

type mesh struct {
	productpage, details, reviews, ratings service
}

// startMesh runs the four services pointed at each other, with reviews at
// the given version.
func startMesh(t *testing.T, reviewsVersion string) mesh {
	var m mesh
	m.ratings = start(t, "ratings", "v1", nil)
	m.details = start(t, "details", "v1", nil)
	m.reviews = start(t, "reviews", reviewsVersion, at(map[string]string{"HOSTNAME": "reviews-" + reviewsVersion + "-1"}, "ratings", m.ratings))
	env := at(at(at(map[string]string{}, "details", m.details), "reviews", m.reviews), "ratings", m.ratings)
	m.productpage = start(t, "productpage", "v1", env)
	return m
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, url string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func page(t *testing.T, m mesh, header http.Header) string {
	t.Helper()
	resp, body := do(t, http.MethodGet, m.productpage.srv.URL+"/productpage", nil, header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /productpage: %d %s", resp.StatusCode, body)
	}
	return body
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

const (
	fullStar  = `<span class="glyphicon glyphicon-star"></span>`
	emptyStar = `<span class="glyphicon glyphicon-star-empty"></span>`
)

func TestBookinfoProductpage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		version, color string
	}{{"v1", ""}, {"v2", "black"}, {"v3", "red"}} {
		t.Run("reviews "+tc.version, func(t *testing.T) {
			t.Parallel()
			m := startMesh(t, tc.version)
			body := page(t, m, nil)
			mustContain(t, body, "The Comedy of Errors", "Book Details", "paperback", "PublisherA", "English",
				"1234567890", "123-1234567890", "Book Reviews", "Reviewer1", "Reviewer2",
				"An extremely entertaining play by Shakespeare.", "Reviews served by: reviews-"+tc.version+"-1")
			ratingsCalls := len(m.ratings.rec.requests())
			if tc.color == "" {
				if strings.Contains(body, "glyphicon-star") || strings.Contains(body, "<font color") {
					t.Errorf("reviews v1 shows stars:\n%s", body)
				}
				if ratingsCalls != 0 {
					t.Errorf("reviews v1 called ratings %d times", ratingsCalls)
				}
				return
			}
			mustContain(t, body, `<font color="`+tc.color+`">`)
			if n := strings.Count(body, fullStar); n != 9 {
				t.Errorf("%d full stars, want 5+4", n)
			}
			if n := strings.Count(body, emptyStar); n != 1 {
				t.Errorf("%d empty stars, want 1", n)
			}
			if ratingsCalls != 1 {
				t.Errorf("reviews %s called ratings %d times", tc.version, ratingsCalls)
			}
		})
	}
}

func TestBookinfoLoginForwardsEndUser(t *testing.T) {
	t.Parallel()
	m := startMesh(t, "v2")
	form := strings.NewReader(url.Values{"username": {"jason"}, "passwd": {"x"}}.Encode())
	resp, _ := do(t, http.MethodPost, m.productpage.srv.URL+"/login", form,
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Referer": {m.productpage.srv.URL + "/productpage"}})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != m.productpage.srv.URL+"/productpage" {
		t.Fatalf("POST /login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("POST /login set no session cookie: %v", resp.Header["Set-Cookie"])
	}
	cookie := http.Header{"Cookie": {session.Name + "=" + session.Value}}

	body := page(t, m, cookie)
	mustContain(t, body, "jason ( <a href=\"logout\">sign out</a> )")
	for name, s := range map[string]service{"reviews": m.reviews, "ratings": m.ratings} {
		if got := s.rec.last(t, name).Get("end-user"); got != "jason" {
			t.Errorf("%s got end-user %q, want jason", name, got)
		}
	}
	if got := m.details.rec.last(t, "details").Get("end-user"); got != "jason" {
		t.Errorf("details got end-user %q, want jason", got)
	}

	// A forged session is nobody; the end-user header itself is not trusted.
	page(t, m, http.Header{"Cookie": {"session=amFzb24.forged"}, "End-User": {"jason"}})
	if got := m.reviews.rec.last(t, "reviews").Values("end-user"); len(got) != 0 {
		t.Errorf("reviews got end-user %q from a forged session", got)
	}

	resp, _ = do(t, http.MethodGet, m.productpage.srv.URL+"/logout", nil, cookie)
	if resp.StatusCode != http.StatusFound || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("GET /logout: %d, cookies %v", resp.StatusCode, resp.Header["Set-Cookie"])
	}
}

func TestBookinfoTraceHeadersForwarded(t *testing.T) {
	t.Parallel()
	m := startMesh(t, "v3")
	in := http.Header{
		"X-Request-Id":      {"6d4e0a53-5e4e-9c7c-a2a6-1b4a5d3f0e11"},
		"Traceparent":       {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
		"Tracestate":        {"congo=t61rcWkgMzE"},
		"B3":                {"80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"},
		"X-B3-Traceid":      {"80f198ee56343ba864fe8b2a57d3eff7"},
		"X-B3-Spanid":       {"e457b5a2e4d86bd1"},
		"X-B3-Parentspanid": {"05e3ac9a4f6e3b90"},
		"X-B3-Sampled":      {"1"},
		"X-B3-Flags":        {"1"},
		"X-Ot-Span-Context": {"a;b;c"},
		"User-Agent":        {"bookinfo-test"},
	}
	page(t, m, in)
	for name, s := range map[string]service{"details": m.details, "reviews": m.reviews, "ratings": m.ratings} {
		got := s.rec.last(t, name)
		for k, want := range in {
			if !reflect.DeepEqual(got.Values(k), want) {
				t.Errorf("%s got %s %q, want %q", name, k, got.Values(k), want)
			}
		}
	}
}

func TestBookinfoRatingsOutage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ratings func(*testing.T) service
	}{
		{"down", down},
		{"hung past reviews v3's 2.5 s timeout", hung},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ratings := tc.ratings(t)
			reviews := start(t, "reviews", "v3", at(map[string]string{}, "ratings", ratings))
			env := at(at(map[string]string{}, "details", start(t, "details", "v1", nil)), "reviews", reviews)
			pp := start(t, "productpage", "v1", env)
			body := page(t, mesh{productpage: pp}, nil)
			mustContain(t, body, "Book Reviews", "Reviewer1", "<p><i>Ratings service is currently unavailable</i></p>")
			if strings.Contains(body, "glyphicon-star") {
				t.Errorf("stars without ratings:\n%s", body)
			}
			if n := len(ratings.rec.requests()); tc.name != "down" && n != 1 {
				t.Errorf("ratings asked %d times", n)
			}
		})
	}
}

func TestBookinfoReviewsHung(t *testing.T) {
	t.Parallel()
	reviews := hung(t)
	env := at(at(map[string]string{}, "details", start(t, "details", "v1", nil)), "reviews", reviews)
	pp := start(t, "productpage", "v1", env)
	begin := time.Now()
	body := page(t, mesh{productpage: pp}, nil)
	took := time.Since(begin)
	mustContain(t, body, "Book Details", "Error fetching product reviews!", reviewsUnavailable)
	if n := len(reviews.rec.requests()); n != productpageReviewsTries {
		t.Errorf("reviews asked %d times, want %d", n, productpageReviewsTries)
	}
	if took > 30*time.Second {
		t.Errorf("productpage answered after %s", took)
	}
	t.Logf("productpage answered in %s", took)
}

func TestBookinfoDetailsDown(t *testing.T) {
	t.Parallel()
	env := at(at(map[string]string{}, "details", down(t)), "reviews", start(t, "reviews", "v1", nil))
	pp := start(t, "productpage", "v1", at(env, "ratings", down(t)))
	body := page(t, mesh{productpage: pp}, nil)
	mustContain(t, body, "Error fetching product details!", detailsUnavailable, "Book Reviews")
	for path, want := range map[string]string{"/api/v1/products/0": detailsUnavailable, "/api/v1/products/0/ratings": ratingsUnavailable} {
		resp, b := do(t, http.MethodGet, pp.srv.URL+path, nil, nil)
		if resp.StatusCode != http.StatusInternalServerError || !jsonEqual(b, mustJSON(t, map[string]string{"error": want})) {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
	}
}

func TestBookinfoJSON(t *testing.T) {
	t.Parallel()
	m := startMesh(t, "v2")
	reviewsV1 := start(t, "reviews", "v1", nil)
	details := `{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}`
	text1 := "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"
	text2 := "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."
	reviews := `{"id":"0","podname":"reviews-v2-1","clustername":"null","reviews":[` +
		`{"reviewer":"Reviewer1","text":"` + text1 + `","rating":{"stars":5,"color":"black"}},` +
		`{"reviewer":"Reviewer2","text":"` + text2 + `","rating":{"stars":4,"color":"black"}}]}`
	for _, tc := range []struct {
		s      service
		path   string
		status int
		want   string
	}{
		{m.details, "/details/0", 200, details},
		{m.details, "/details/x", 400, `{"error":"please provide numeric product id"}`},
		{m.details, "/health", 200, `{"status":"Details is healthy"}`},
		{m.ratings, "/ratings/0", 200, `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
		{m.ratings, "/ratings/x", 400, `{"error":"please provide numeric product ID"}`},
		{m.ratings, "/health", 200, `{"status":"Ratings is healthy"}`},
		{m.reviews, "/reviews/0", 200, reviews},
		{m.reviews, "/health", 200, `{"status":"Reviews is healthy"}`},
		{reviewsV1, "/reviews/1", 200, `{"id":"1","podname":"null","clustername":"null","reviews":[` +
			`{"reviewer":"Reviewer1","text":"` + text1 + `"},{"reviewer":"Reviewer2","text":"` + text2 + `"}]}`},
		{m.productpage, "/api/v1/products", 200, `[{"id":0,"title":"The Comedy of Errors","descriptionHtml":` +
			mustJSON(t, string(comedyOfErrors.DescriptionHTML)) + `}]`},
		{m.productpage, "/api/v1/products/0", 200, details},
		{m.productpage, "/api/v1/products/0/reviews", 200, reviews},
		{m.productpage, "/api/v1/products/0/ratings", 200, `{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}`},
	} {
		resp, body := do(t, http.MethodGet, tc.s.srv.URL+tc.path, nil, nil)
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/json" || !jsonEqual(body, tc.want) {
			t.Errorf("GET %s = %d %s %s, want %d %s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.want)
		}
	}
	if _, body := do(t, http.MethodGet, m.productpage.srv.URL+"/health", nil, nil); body != "Product page is healthy" {
		t.Errorf("productpage /health = %q", body)
	}
	_, body := do(t, http.MethodGet, m.productpage.srv.URL+"/metrics", nil, nil)
	mustContain(t, body, `request_result_total{destination_app="details",response_code="200"} 1.0`)
	_, body = do(t, http.MethodGet, m.productpage.srv.URL+"/", nil, nil)
	mustContain(t, body, "simple bookstore application", "/productpage?u=normal")
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// In host mode upstream calls go through $HTTP_PROXY, loopback ones excepted.
func TestBookinfoHTTPProxy(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var proxied []string
	details := detailsHandler()
	proxy := serveRecorded(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.RequestURI)
		mu.Unlock()
		details.ServeHTTP(w, r)
	}))
	reviews := start(t, "reviews", "v1", nil)
	pp := start(t, "productpage", "v1", at(map[string]string{"HTTP_PROXY": proxy.srv.URL}, "reviews", reviews))
	body := page(t, mesh{productpage: pp}, nil)
	mustContain(t, body, "Book Details", "PublisherA", "Book Reviews")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"http://details:9080/details/0"}; !reflect.DeepEqual(proxied, want) {
		t.Errorf("proxied %q, want %q", proxied, want)
	}
}

func TestBookinfoRatingsModes(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	get := func(rt *ratings, method, path, body string) (int, string) {
		rec := httptest.NewRecorder()
		rt.handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec.Code, rec.Body.String()
	}
	newMode := func(mode string, at time.Duration, coin float64) *ratings {
		rt := newRatings("v1", environ(mapEnv{"SERVICE_VERSION": mode}.get), log.New(io.Discard, "", 0))
		rt.started, rt.now, rt.coin, rt.delay = t0, func() time.Time { return t0.Add(at) }, func() float64 { return coin }, time.Millisecond
		return rt
	}
	for _, tc := range []struct {
		mode   string
		at     time.Duration
		coin   float64
		path   string
		status int
	}{
		{"v-faulty", 0, 0.3, "/ratings/0", 503},
		{"v-faulty", 0, 0.7, "/ratings/0", 200},
		{"v-delayed", 0, 0.3, "/ratings/0", 200},
		{"v-unavailable", 30 * time.Second, 0, "/ratings/0", 200},
		{"v-unavailable", 90 * time.Second, 0, "/ratings/0", 503},
		{"v-unavailable", 90 * time.Second, 0, "/health", 200},
		{"v-unhealthy", 16 * time.Minute, 0, "/ratings/0", 503},
		{"v-unhealthy", 16 * time.Minute, 0, "/health", 500},
		{"v-unhealthy", 31 * time.Minute, 0, "/health", 200},
	} {
		if status, body := get(newMode(tc.mode, tc.at, tc.coin), http.MethodGet, tc.path, ""); status != tc.status {
			t.Errorf("%s at %s coin %.1f: GET %s = %d %s, want %d", tc.mode, tc.at, tc.coin, tc.path, status, body, tc.status)
		}
	}

	v1 := newMode("", 0, 0)
	if status, body := get(v1, http.MethodPost, "/ratings/3", `{"Reviewer1":1,"Reviewer2":2}`); status != 200 || !jsonEqual(body, `{"id":3,"ratings":{"Reviewer1":1,"Reviewer2":2}}`) {
		t.Errorf("v1 POST /ratings/3 = %d %s", status, body)
	}
	if _, body := get(v1, http.MethodGet, "/ratings/3", ""); !jsonEqual(body, `{"id":3,"ratings":{"Reviewer1":1,"Reviewer2":2}}`) {
		t.Errorf("v1 GET /ratings/3 after POST = %s", body)
	}
	v2, err := New("ratings", "v2", mapEnv(nil).get, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for method, want := range map[string]int{http.MethodGet: 200, http.MethodPost: 501} {
		rec := httptest.NewRecorder()
		v2.ServeHTTP(rec, httptest.NewRequest(method, "/ratings/0", strings.NewReader(`{"Reviewer1":1}`)))
		if rec.Code != want {
			t.Errorf("v2 %s /ratings/0 = %d %s, want %d", method, rec.Code, rec.Body, want)
		}
	}
}

// mapEnv is an environment for tests.
type mapEnv map[string]string

func (m mapEnv) get(k string) string { return m[k] }

func TestBookinfoReviewsTimeouts(t *testing.T) {
	for _, tc := range []struct {
		version string
		env     map[string]string
		enabled bool
		color   string
		timeout time.Duration
	}{
		{"v1", nil, false, "black", 10 * time.Second},
		{"v2", nil, true, "black", 10 * time.Second},
		{"v3", nil, true, "red", 2500 * time.Millisecond},
		{"v1", map[string]string{"ENABLE_RATINGS": "true", "STAR_COLOR": "blue"}, true, "blue", 2500 * time.Millisecond},
	} {
		r := newReviews(tc.version, environ(mapEnv(tc.env).get), log.New(io.Discard, "", 0))
		if r.ratingsEnabled != tc.enabled || r.starColor != tc.color || r.timeout != tc.timeout {
			t.Errorf("reviews %s %v: ratings %t, color %s, timeout %s", tc.version, tc.env, r.ratingsEnabled, r.starColor, r.timeout)
		}
	}
	if productpageTimeout != 3*time.Second || productpageReviewsTries != 2 {
		t.Errorf("productpage: timeout %s, %d tries of reviews; the sample has 3s and 2", productpageTimeout, productpageReviewsTries)
	}
}

func TestBookinfoArgs(t *testing.T) {
	for _, tc := range []struct {
		args                    []string
		image, service, version string
		err                     bool
	}{
		{[]string{"reviews", "v2"}, "", "reviews", "v2", false},
		{[]string{"details"}, "", "details", "v1", false},
		{nil, "registry.istio.io/release/examples-bookinfo-reviews-v3:1.20.3", "reviews", "v3", false},
		{nil, "docker.io/istio/examples-bookinfo-ratings-v2-mysql@sha256:abc", "ratings", "v2-mysql", false},
		{nil, "examples-bookinfo-productpage-v1", "productpage", "v1", false},
		{nil, "nginx:1.25", "", "", true},
		{[]string{"a", "b", "c"}, "", "", "", true},
	} {
		service, version, err := Args(tc.args, tc.image)
		if service != tc.service || version != tc.version || (err != nil) != tc.err {
			t.Errorf("Args(%q, %q) = %q, %q, %v", tc.args, tc.image, service, version, err)
		}
	}
	for _, bad := range [][2]string{{"mysqldb", "v1"}, {"reviews", "v4"}, {"productpage", "v2"}} {
		_, err := New(bad[0], bad[1], mapEnv(nil).get, io.Discard)
		if err == nil {
			t.Errorf("New(%q, %q) succeeded", bad[0], bad[1])
		}
	}
	if _, err := New("unknown", "v1", mapEnv(nil).get, io.Discard); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown service: %v", err)
	}
}
