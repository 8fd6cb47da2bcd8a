package bookinfo

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFiles embed.FS

var productpageTemplates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// comedyOfErrors is the product productpage shows (the sample's only one).
var comedyOfErrors = product{
	ID:    0,
	Title: "The Comedy of Errors",
	DescriptionHTML: `<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: ` +
		`The Comedy of Errors is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, ` +
		`with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.`,
}

// The error texts of productpage.
const (
	detailsUnavailable = "Sorry, product details are currently unavailable for this book."
	reviewsUnavailable = "Sorry, product reviews are currently unavailable for this book."
	ratingsUnavailable = "Sorry, product ratings are currently unavailable for this book."
)

type product struct {
	ID              int           `json:"id"`
	Title           string        `json:"title"`
	DescriptionHTML template.HTML `json:"descriptionHtml"`
}

// productpage is the front end: it renders the book from details and
// reviews, and serves the same data as JSON.
type productpage struct {
	details, reviews, ratings string // base URLs
	client                    *http.Client
	flood                     int // FLOOD_FACTOR: extra calls of reviews per page
	log                       *log.Logger

	mu      sync.Mutex
	results map[[2]string]int // {destination_app, response_code} → count
}

func newProductpage(env environ, logger *log.Logger) *productpage {
	p := &productpage{
		details: env.upstream("details"),
		reviews: env.upstream("reviews"),
		ratings: env.upstream("ratings"),
		client:  env.client(),
		log:     logger,
		results: map[[2]string]int{},
	}
	if _, err := fmt.Sscan(env.or("0", "FLOOD_FACTOR"), &p.flood); err != nil {
		logger.Printf("bookinfo productpage: FLOOD_FACTOR %q: %v", env("FLOOD_FACTOR"), err)
	}
	return p
}

func (p *productpage) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.index)
	mux.HandleFunc("GET /index.html", p.index)
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("Product page is healthy"))
	})
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /logout", p.logout)
	mux.HandleFunc("GET /productpage", p.page)
	mux.HandleFunc("GET /api/v1/products", func(w http.ResponseWriter, _ *http.Request) {
		b, _ := json.Marshal([]product{comedyOfErrors})
		writeJSON(w, http.StatusOK, b)
	})
	mux.HandleFunc("GET /api/v1/products/{id}", p.api(p.productDetails))
	mux.HandleFunc("GET /api/v1/products/{id}/reviews", p.api(p.productReviews))
	mux.HandleFunc("GET /api/v1/products/{id}/ratings", p.api(p.productRatings))
	mux.HandleFunc("GET /metrics", p.metrics)
	return mux
}

// api serves one of the product's JSON resources.
func (p *productpage) api(get func(context.Context, string, http.Header) (int, json.RawMessage)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body := get(r.Context(), url.PathEscape(r.PathValue("id")), p.forwardHeaders(r))
		writeJSON(w, status, body)
	}
}

// forwardHeaders are the headers of calls made for r: the propagated ones
// and end-user, the session's user.
func (p *productpage) forwardHeaders(r *http.Request) http.Header {
	h := http.Header{}
	if u := sessionUser(r); u != "" {
		h.Set("end-user", u)
	}
	forward(h, r.Header, propagatedHeaders)
	return h
}

func (p *productpage) productDetails(ctx context.Context, id string, h http.Header) (int, json.RawMessage) {
	return p.call(ctx, "details", p.details+"/details/"+id, h, 1, detailsUnavailable)
}

func (p *productpage) productReviews(ctx context.Context, id string, h http.Header) (int, json.RawMessage) {
	return p.call(ctx, "reviews", p.reviews+"/reviews/"+id, h, productpageReviewsTries, reviewsUnavailable)
}

func (p *productpage) productRatings(ctx context.Context, id string, h http.Header) (int, json.RawMessage) {
	return p.call(ctx, "ratings", p.ratings+"/ratings/"+id, h, 1, ratingsUnavailable)
}

// call GETs a JSON resource, trying up to tries times, each within
// productpageTimeout. On failure it returns the last status (500 when there
// was none) and {"error": unavailable}.
func (p *productpage) call(ctx context.Context, app, url string, h http.Header, tries int, unavailable string) (int, json.RawMessage) {
	status := 0
	for range tries {
		code, body, err := fetch(ctx, p.client, url, h, productpageTimeout)
		if err == nil && code == http.StatusOK && json.Valid(body) {
			p.count(app, code)
			return code, body
		}
		status = code
		if err != nil {
			p.log.Printf("GET %s: %v", url, err)
		}
	}
	if status == 0 || status == http.StatusOK { // no answer, or not JSON
		status = http.StatusInternalServerError
	}
	p.count(app, status)
	b, _ := json.Marshal(map[string]string{"error": unavailable})
	return status, b
}

func (p *productpage) count(app string, status int) {
	p.mu.Lock()
	p.results[[2]string{app, fmt.Sprint(status)}]++
	p.mu.Unlock()
}

// metrics serves the sample's request_result counter in Prometheus' text format.
func (p *productpage) metrics(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	keys := make([][2]string, 0, len(p.results))
	for k := range p.results {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+" "+keys[i][1] < keys[j][0]+" "+keys[j][1] })
	var b strings.Builder
	b.WriteString("# HELP request_result_total Results of requests\n# TYPE request_result_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "request_result_total{destination_app=%q,response_code=%q} %d.0\n", k[0], k[1], p.results[k])
	}
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// The page's view of the details and reviews JSON.
type (
	pageDetails struct {
		Type      string `json:"type"`
		Pages     any    `json:"pages"`
		Publisher string `json:"publisher"`
		Language  string `json:"language"`
		ISBN10    string `json:"ISBN-10"`
		ISBN13    string `json:"ISBN-13"`
	}
	pageReviews struct {
		Podname     string       `json:"podname"`
		Clustername string       `json:"clustername"`
		Reviews     []pageReview `json:"reviews"`
	}
	pageReview struct {
		Reviewer string      `json:"reviewer"`
		Text     string      `json:"text"`
		Rating   *pageRating `json:"rating"`
	}
	pageRating struct {
		Stars int    `json:"stars"`
		Color string `json:"color"`
		Error string `json:"error"`
	}
)

// Empty is the number of empty stars after the full ones.
func (r pageRating) Empty() int { return max(0, 5-r.Stars) }

// Full is the number of full stars.
func (r pageRating) Full() int { return min(max(0, r.Stars), 5) }

// page renders /productpage.
func (p *productpage) page(w http.ResponseWriter, r *http.Request) {
	h := p.forwardHeaders(r)
	data := struct {
		User                       string
		Product                    product
		DetailsOK, ReviewsOK       bool
		Details                    pageDetails
		Reviews                    pageReviews
		DetailsError, ReviewsError string
	}{User: sessionUser(r), Product: comedyOfErrors}
	id := fmt.Sprint(comedyOfErrors.ID)

	status, body := p.productDetails(r.Context(), id, h)
	data.DetailsOK = status == http.StatusOK && json.Unmarshal(body, &data.Details) == nil
	if !data.DetailsOK {
		data.DetailsError = detailsUnavailable
	}
	if p.flood > 0 { // load for rate limiting demos; the answers are dropped
		var wg sync.WaitGroup
		for range p.flood {
			wg.Go(func() { p.productReviews(r.Context(), id, h) })
		}
		wg.Wait()
	}
	status, body = p.productReviews(r.Context(), id, h)
	data.ReviewsOK = status == http.StatusOK && json.Unmarshal(body, &data.Reviews) == nil
	if !data.ReviewsOK {
		data.ReviewsError = reviewsUnavailable
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := productpageTemplates.ExecuteTemplate(w, "productpage.html", data); err != nil {
		p.log.Printf("render /productpage: %v", err)
	}
}

// serviceNode is a node of the service tree on the index page.
type serviceNode struct {
	Name, Endpoint string
	Children       []serviceNode
}

func (p *productpage) index(w http.ResponseWriter, _ *http.Request) {
	details := serviceNode{Name: p.details, Endpoint: "details"}
	ratings := serviceNode{Name: p.ratings, Endpoint: "ratings"}
	reviews := serviceNode{Name: p.reviews, Endpoint: "reviews", Children: []serviceNode{ratings}}
	tree := serviceNode{Name: p.details, Endpoint: "details", Children: []serviceNode{details, reviews}}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := productpageTemplates.ExecuteTemplate(w, "index.html", tree); err != nil {
		p.log.Printf("render /: %v", err)
	}
}

// The session is a cookie "session" holding the user, signed with a key
// every replica shares (as the sample's Flask session with its fixed key).
var sessionKey = []byte("weft-bookinfo-productpage-session")

func sessionValue(user string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + sessionMAC(user)
}

func sessionMAC(user string) string {
	mac := hmac.New(sha256.New, sessionKey)
	mac.Write([]byte(user))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// sessionUser is the signed-in user of r, "" when none.
func sessionUser(r *http.Request) string {
	c, err := r.Cookie("session")
	if err != nil {
		return ""
	}
	u, sig, _ := strings.Cut(c.Value, ".")
	user, err := base64.RawURLEncoding.DecodeString(u)
	if err != nil || !hmac.Equal([]byte(sessionMAC(string(user))), []byte(sig)) {
		return ""
	}
	return string(user)
}

func (p *productpage) login(w http.ResponseWriter, r *http.Request) {
	user := r.FormValue("username")
	c := &http.Cookie{Name: "session", Value: sessionValue(user), Path: "/", HttpOnly: true}
	if user == "" {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, back(r), http.StatusFound)
}

func (p *productpage) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, back(r), http.StatusFound)
}

// back is where login and logout return to: the referring page, else the
// product page.
func back(r *http.Request) string {
	if ref := r.Referer(); ref != "" {
		return ref
	}
	return "/productpage"
}
