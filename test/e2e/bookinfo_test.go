package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/weft-mesh/weft/api"
)

// bookinfoPage is what one load of Bookinfo's /productpage showed.
type bookinfoPage struct {
	reviews            string  // the reviews version that served it: v1, v2, v3; "" on error
	stars              string  // the stars' colour: black (v2), red (v3), "" for none (v1)
	user               string  // the signed-in user the page greets
	reviewsError       bool    // "Error fetching product reviews!"
	ratingsUnavailable bool    // "Ratings service is currently unavailable"
	code               int     // HTTP status
	seconds            float64 // how long the page took
}

func (p bookinfoPage) String() string {
	s := fmt.Sprintf("%d %.1fs reviews=%s stars=%q", p.code, p.seconds, p.reviews, p.stars)
	if p.user != "" {
		s += " user=" + p.user
	}
	if p.reviewsError {
		s += " reviews-error"
	}
	if p.ratingsUnavailable {
		s += " ratings-unavailable"
	}
	return s
}

var (
	bookinfoStats        = regexp.MustCompile(`@@page code=(\d+) time=([0-9.]+)`)
	bookinfoServedBy     = regexp.MustCompile(`Reviews served by: reviews-(v\d)-`)
	bookinfoStars        = regexp.MustCompile(`<font color="(\w+)">`)
	bookinfoUser         = regexp.MustCompile(`padding-left: 5px;">(\w+) \(`)
	bookinfoReviewsError = "Error fetching product reviews!"
)

// bookinfoLoad loads Bookinfo's product page n times from the sleep pod,
// through its sidecar, signed in as user first (POST /login, as the
// sample's Sign in button does) when user is not "".
func bookinfoLoad(t *testing.T, w *weftd, sleep, user string, n int) []bookinfoPage {
	t.Helper()
	script := `j=$(mktemp); trap 'rm -f "$j"' EXIT; `
	if user != "" {
		script += fmt.Sprintf(`curl -s -m 20 -c "$j" -o /dev/null -d username=%s -d passwd=%s http://productpage:9080/login; `, user, user)
	}
	script += fmt.Sprintf(`for i in $(seq %d); do curl -s -m 30 -b "$j" -w '\n@@page code=%%{http_code} time=%%{time_total}\n' http://productpage:9080/productpage; done`, n)
	out := exampleSh(t, w, sleep, script)
	parts := strings.SplitAfter(out, "\n@@page")
	if len(parts) != n+1 {
		t.Fatalf("productpage: %d page ends for %d loads:\n%s", len(parts)-1, n, out)
	}
	var pages []bookinfoPage
	for _, html := range parts[:n] {
		html = strings.TrimPrefix(html, " ")
		var p bookinfoPage
		if m := bookinfoServedBy.FindStringSubmatch(html); m != nil {
			p.reviews = m[1]
		}
		if m := bookinfoStars.FindStringSubmatch(html); m != nil {
			p.stars = m[1]
		}
		if m := bookinfoUser.FindStringSubmatch(html); m != nil {
			p.user = m[1]
		}
		p.reviewsError = strings.Contains(html, bookinfoReviewsError) && strings.Contains(html, "Sorry, product reviews are currently unavailable for this book.")
		p.ratingsUnavailable = strings.Contains(html, "Ratings service is currently unavailable")
		pages = append(pages, p)
	}
	stats := bookinfoStats.FindAllStringSubmatch(out, -1)
	if len(stats) != n || len(pages) != n {
		t.Fatalf("productpage: %d pages, %d status lines for %d loads:\n%s", len(pages), len(stats), n, out)
	}
	for i, m := range stats {
		pages[i].code, _ = strconv.Atoi(m[1])
		pages[i].seconds, _ = strconv.ParseFloat(m[2], 64)
	}
	return pages
}

// bookinfoTally counts pages by the reviews version that served them ("" when
// reviews failed) and checks each page's stars match that version.
func bookinfoTally(t *testing.T, pages []bookinfoPage) map[string]int {
	t.Helper()
	want := map[string]string{"v1": "", "v2": "black", "v3": "red", "": ""}
	n := map[string]int{}
	for _, p := range pages {
		n[p.reviews]++
		if p.code != 200 || p.stars != want[p.reviews] {
			t.Errorf("page %s: want HTTP 200 and stars %q", p, want[p.reviews])
		}
	}
	return n
}

// TestBookinfo is examples/bookinfo and examples/fault-injection: Istio's
// Bookinfo (bookinfo.yaml unchanged, with injection by namespace label and
// destination-rule-all.yaml) and the request-routing, traffic-shifting and
// fault-injection tasks, with what istio-docs/EXPECTED.md says a user sees.
func TestBookinfo(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := startWeftd(t, t.TempDir(), "--network", mode)
			applyExample(t, w, "bookinfo/")
			waitFor(t, 180*time.Second, "Bookinfo's six pods and sleep ready, each with its sidecar", func() bool {
				pods := listPods(t, w.client(t), "app in (productpage,details,reviews,ratings,sleep)")
				for _, p := range pods {
					if !api.HasSidecar(&p.Spec) {
						t.Fatalf("pod %s has no weft-proxy: the namespace label should have injected it", p.Name)
					}
				}
				return countReady(pods) == 7
			})
			sleep := podName(t, w, "app=sleep")
			waitFor(t, 60*time.Second, "productpage through the mesh", func() bool {
				return count(curlFrom(t, w, sleep, 1, "http://productpage:9080/health"), "Product page is healthy HTTP 200") == 1
			})

			t.Run("round-robin", func(t *testing.T) {
				// No VirtualService yet: reviews v1, v2 and v3 take turns.
				var n map[string]int
				waitFor(t, 60*time.Second, "all three reviews versions on the page", func() bool {
					n = bookinfoTally(t, bookinfoLoad(t, w, sleep, "", 30))
					return n["v1"] >= 3 && n["v2"] >= 3 && n["v3"] >= 3
				})
				t.Logf("30 loads: %v", n)
			})

			t.Run("all-v1", func(t *testing.T) {
				applyExample(t, w, "bookinfo/networking/virtual-service-all-v1.yaml")
				waitFor(t, 60*time.Second, "only reviews v1: no stars on 20 loads", func() bool {
					return bookinfoTally(t, bookinfoLoad(t, w, sleep, "", 20))["v1"] == 20
				})
			})

			t.Run("80-20", func(t *testing.T) {
				applyExample(t, w, "bookinfo/networking/virtual-service-reviews-80-20.yaml")
				waitFor(t, 60*time.Second, "reviews v2 appearing", func() bool {
					return bookinfoTally(t, bookinfoLoad(t, w, sleep, "", 10))["v2"] > 0
				})
				n := bookinfoTally(t, bookinfoLoad(t, w, sleep, "", 100))
				t.Logf("100 loads with 80/20: %v", n)
				// 20 expected, standard deviation 4.
				if n["v1"]+n["v2"] != 100 || n["v2"] < 8 || n["v2"] > 35 {
					t.Errorf("80/20 split: %v of 100 loads", n)
				}
			})

			t.Run("jason", func(t *testing.T) {
				applyExample(t, w, "bookinfo/networking/virtual-service-reviews-test-v2.yaml")
				waitFor(t, 60*time.Second, "jason on reviews v2 (black stars), others on v1 (none)", func() bool {
					jason := bookinfoLoad(t, w, sleep, "jason", 10)
					for _, p := range jason {
						if p.user != "jason" {
							t.Fatalf("after POST /login the page does not greet jason: %s", p)
						}
					}
					return bookinfoTally(t, jason)["v2"] == 10 && bookinfoTally(t, bookinfoLoad(t, w, sleep, "", 10))["v1"] == 10
				})
			})

			t.Run("fault-injection/delay", func(t *testing.T) {
				// The whole example folder: Bookinfo again (unchanged),
				// all-v1, jason on v2, and a 7 s delay on jason's ratings.
				applyExample(t, w, "fault-injection/")
				// productpage gives reviews 3 s, twice: the page comes back
				// after about 6 s, before the 7 s delay ends.
				var p bookinfoPage
				waitFor(t, 90*time.Second, "jason's reviews failing after the delay", func() bool {
					p = bookinfoLoad(t, w, sleep, "jason", 1)[0]
					return p.reviewsError
				})
				t.Logf("jason with a 7s ratings delay: %s", p)
				if !p.reviewsError || p.code != 200 || p.seconds < 5.5 || p.seconds > 15 {
					t.Errorf("jason's page: %s; want the reviews error after about 6 s", p)
				}
				for _, p := range bookinfoLoad(t, w, sleep, "", 3) {
					// Well under the ~6 s of jason's delayed page (a generous
					// bound: this machine may be busy).
					if p.reviews != "v1" || p.reviewsError || p.seconds > 5 {
						t.Errorf("a signed-out user's page: %s; want reviews v1, without jason's delay", p)
					}
				}
			})

			t.Run("fault-injection/abort", func(t *testing.T) {
				applyExample(t, w, "fault-injection/abort/")
				waitFor(t, 60*time.Second, "jason's ratings unavailable", func() bool {
					return bookinfoLoad(t, w, sleep, "jason", 1)[0].ratingsUnavailable
				})
				// Now that every sidecar has the abort (a page loaded in the
				// moment it spread may still wait out the delay):
				for _, p := range bookinfoLoad(t, w, sleep, "jason", 3) {
					if p.code != 200 || p.reviews != "v2" || p.stars != "" || p.reviewsError || p.seconds > 3 {
						t.Errorf("jason's page with ratings aborted: %s; want reviews v2 without stars, at once", p)
					}
				}
				for _, p := range bookinfoLoad(t, w, sleep, "", 3) {
					if p.reviews != "v1" || p.ratingsUnavailable || p.reviewsError {
						t.Errorf("a signed-out user's page: %s; want reviews v1 without error", p)
					}
				}
			})
		})
	}
}
