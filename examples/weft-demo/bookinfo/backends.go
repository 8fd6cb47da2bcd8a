package bookinfo

import (
	"encoding/json"
	"log"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// detailsHandler is the details service (v1): the book's details.
func detailsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status":"Details is healthy"}`))
	})
	serve := func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimRight(r.URL.Path, "/"), "/")
		id, err := strconv.ParseInt(parts[len(parts)-1], 0, 64) // as Ruby's Integer()
		if err != nil {
			writeJSON(w, http.StatusBadRequest, []byte(`{"error":"please provide numeric product id"}`))
			return
		}
		b, _ := json.Marshal(bookDetails{
			ID: id, Author: "William Shakespeare", Year: 1595, Type: "paperback", Pages: 200,
			Publisher: "PublisherA", Language: "English", ISBN10: "1234567890", ISBN13: "123-1234567890",
		})
		writeJSON(w, http.StatusOK, b)
	}
	mux.HandleFunc("/details", serve)
	mux.HandleFunc("/details/", serve)
	return mux
}

type bookDetails struct {
	ID        int64  `json:"id"`
	Author    string `json:"author"`
	Year      int    `json:"year"`
	Type      string `json:"type"`
	Pages     int    `json:"pages"`
	Publisher string `json:"publisher"`
	Language  string `json:"language"`
	ISBN10    string `json:"ISBN-10"`
	ISBN13    string `json:"ISBN-13"`
}

// reviews is the reviews service: two reviews, with the ratings' stars
// when ratings are enabled (v2 black, v3 red).
type reviews struct {
	ratings        string // base URL
	ratingsEnabled bool
	starColor      string
	timeout        time.Duration
	podName        string
	clusterName    string
	client         *http.Client
	log            *log.Logger
}

func newReviews(version string, env environ, logger *log.Logger) *reviews {
	// The images' ENV: v1 without ratings, v2 black stars, v3 red; the
	// pod's environment overrides them.
	enabled, color := "true", "black"
	switch version {
	case "v1":
		enabled = "false"
	case "v3":
		color = "red"
	}
	r := &reviews{
		ratings:        env.upstream("ratings"),
		ratingsEnabled: strings.EqualFold(env.or(enabled, "ENABLE_RATINGS"), "true"),
		starColor:      env.or(color, "STAR_COLOR"),
		podName:        env.or("null", "HOSTNAME"),
		clusterName:    env.or("null", "CLUSTER_NAME"),
		client:         env.client(),
		log:            logger,
	}
	r.timeout = reviewsColorTimeout
	if r.starColor == "black" {
		r.timeout = reviewsBlackTimeout
	}
	return r
}

// reviewsHeaders are the headers reviews forwards to ratings.
var reviewsHeaders = append([]string{"end-user"}, propagatedHeaders...)

// The reviews' JSON.
type (
	reviewsBody struct {
		ID          string   `json:"id"`
		Podname     string   `json:"podname"`
		Clustername string   `json:"clustername"`
		Reviews     []review `json:"reviews"`
	}
	review struct {
		Reviewer string `json:"reviewer"`
		Text     string `json:"text"`
		Rating   any    `json:"rating,omitempty"`
	}
	starRating struct {
		Stars int64  `json:"stars"`
		Color string `json:"color"`
	}
	ratingError struct {
		Error string `json:"error"`
	}
)

var bookReviews = [2]review{
	{Reviewer: "Reviewer1", Text: "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"},
	{Reviewer: "Reviewer2", Text: "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare."},
}

func (rv *reviews) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"status": "Reviews is healthy"}`))
	})
	mux.HandleFunc("GET /reviews/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 32)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		pid := strconv.FormatInt(id, 10)
		body := reviewsBody{ID: pid, Podname: rv.podName, Clustername: rv.clusterName, Reviews: bookReviews[:]}
		if rv.ratingsEnabled {
			stars := rv.stars(r, pid)
			body.Reviews = make([]review, len(bookReviews))
			for i, rev := range bookReviews {
				if s, ok := stars[rev.Reviewer]; ok {
					rev.Rating = starRating{Stars: s, Color: rv.starColor}
				} else {
					rev.Rating = ratingError{Error: "Ratings service is currently unavailable"}
				}
				body.Reviews[i] = rev
			}
		}
		b, _ := json.Marshal(body)
		writeJSON(w, http.StatusOK, b)
	})
	return mux
}

// stars asks ratings for the product's stars by reviewer; none when
// ratings did not answer in time.
func (rv *reviews) stars(r *http.Request, id string) map[string]int64 {
	url := rv.ratings + "/ratings/" + id
	h := http.Header{"Accept": {"application/json"}}
	forward(h, r.Header, reviewsHeaders)
	status, body, err := fetch(r.Context(), rv.client, url, h, rv.timeout)
	switch {
	case err != nil:
		rv.log.Printf("Error: unable to contact %s got exception %v", url, err)
		return nil
	case status != http.StatusOK:
		rv.log.Printf("Error: unable to contact %s got status of %d", url, status)
		return nil
	}
	var resp struct {
		Ratings map[string]json.Number `json:"ratings"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		rv.log.Printf("Error: %s answered %v", url, err)
		return nil
	}
	stars := map[string]int64{}
	for who, n := range resp.Ratings {
		if v, err := n.Int64(); err == nil {
			stars[who] = v
		}
	}
	return stars
}

// ratings is the ratings service: each reviewer's stars.
type ratings struct {
	// mode is the image's SERVICE_VERSION: v1, v2 (database-backed: here
	// v1's ratings, read-only), v-faulty (half the answers 503), v-delayed
	// (half the answers 7 s late), v-unavailable (503 every other minute),
	// v-unhealthy (503 and unhealthy every other 15 minutes).
	mode    string
	delay   time.Duration
	started time.Time
	now     func() time.Time
	coin    func() float64 // uniform in [0, 1)
	log     *log.Logger

	mu    sync.Mutex
	added map[int64]json.RawMessage // POSTed ratings by product
}

func newRatings(version string, env environ, logger *log.Logger) *ratings {
	mode := env.or(version, "SERVICE_VERSION")
	if strings.HasPrefix(mode, "v2") {
		mode = "v2"
	}
	return &ratings{
		mode: mode, delay: ratingsDelay, started: time.Now(), now: time.Now, coin: rand.Float64,
		log: logger, added: map[int64]json.RawMessage{},
	}
}

// outage says whether the service is unavailable and unhealthy now.
func (rt *ratings) outage() (unavailable, unhealthy bool) {
	period := func(d time.Duration) bool { return rt.now().Sub(rt.started)/d%2 == 1 }
	switch rt.mode {
	case "v-unavailable":
		return period(time.Minute), false
	case "v-unhealthy":
		odd := period(15 * time.Minute)
		return odd, odd
	}
	return false, false
}

func (rt *ratings) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		if _, unhealthy := rt.outage(); unhealthy {
			writeJSON(w, http.StatusInternalServerError, []byte(`{"status":"Ratings is not healthy"}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"status":"Ratings is healthy"}`))
	})
	mux.HandleFunc("GET /ratings/", rt.get)
	mux.HandleFunc("POST /ratings/", rt.post)
	return mux
}

func (rt *ratings) logRequest(r *http.Request) { rt.log.Printf("%s %s", r.Method, r.URL.RequestURI()) }

// productID reads the product as JavaScript's parseInt does (leading digits).
func productID(r *http.Request) (int64, bool) {
	s := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	id, err := strconv.ParseInt(s[:end], 10, 64)
	return id, err == nil
}

func (rt *ratings) get(w http.ResponseWriter, r *http.Request) {
	rt.logRequest(r)
	id, ok := productID(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"please provide numeric product ID"}`))
		return
	}
	switch rt.mode {
	case "v-faulty":
		if rt.coin() <= 0.5 {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":"Service unavailable"}`))
			return
		}
	case "v-delayed":
		if rt.coin() <= 0.5 {
			t := time.NewTimer(rt.delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
	case "v-unavailable", "v-unhealthy":
		if unavailable, _ := rt.outage(); unavailable {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":"Service unavailable"}`))
			return
		}
	}
	writeJSON(w, http.StatusOK, rt.ratingsOf(id))
}

func (rt *ratings) post(w http.ResponseWriter, r *http.Request) {
	rt.logRequest(r)
	id, ok := productID(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"please provide numeric product ID"}`))
		return
	}
	var body json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"please provide valid ratings JSON"}`))
		return
	}
	if rt.mode == "v2" {
		writeJSON(w, http.StatusNotImplemented, []byte(`{"error":"Post not implemented for database backed ratings"}`))
		return
	}
	rt.mu.Lock()
	rt.added[id] = body
	rt.mu.Unlock()
	writeJSON(w, http.StatusOK, rt.ratingsOf(id))
}

// ratingsOf is the product's ratings JSON: the POSTed ones, else 5 and 4 stars.
func (rt *ratings) ratingsOf(id int64) []byte {
	rt.mu.Lock()
	added, ok := rt.added[id]
	rt.mu.Unlock()
	if !ok {
		added = json.RawMessage(`{"Reviewer1":5,"Reviewer2":4}`)
	}
	b, _ := json.Marshal(struct {
		ID      int64           `json:"id"`
		Ratings json.RawMessage `json:"ratings"`
	}{id, added})
	return b
}
