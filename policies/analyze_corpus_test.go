package policies

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// Analyze over real configuration: Istio's own analyzer fixtures (with the
// messages Istio's analyzers_test.go expects of them), Bookinfo, and the seeds.

const analyzerFixtures = corpusDir + "/istio/pkg/config/analysis/analyzers/testdata"

// readCorpus decodes corpus files into resources, each named by its file
// and document.
func readCorpus(t *testing.T, files ...string) []Resource {
	t.Helper()
	var out []Resource
	for _, f := range files {
		docs, err := api.DecodeFile(filepath.Join(corpusDir, f))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range docs {
			out = append(out, Resource{Object: d.Object, Origin: filepath.Base(d.Source) + " doc " + strconv.Itoa(d.Index)})
		}
	}
	return out
}

func only(msgs []Message, code string) []Message {
	var out []Message
	for _, m := range msgs {
		if m.Type.Code == code {
			out = append(out, m)
		}
	}
	return out
}

func TestAnalyzeIstioFixtures(t *testing.T) {
	t.Run("virtualservice_destinationrules", func(t *testing.T) {
		in := readCorpus(t, "istio/pkg/config/analysis/analyzers/testdata/virtualservice_destinationrules.yaml")
		msgs := Analyze(in)
		// Istio's DestinationRuleAnalyzer: the two bogus subsets, route and mirror.
		var subsets []string
		for _, m := range msgs {
			if m.Type == ReferencedResourceNotFound && strings.HasSuffix(m.Field, ".subset") {
				subsets = append(subsets, m.String())
			}
		}
		want := []string{
			`Error [IST0101] (VirtualService default/reviews-bogussubset virtualservice_destinationrules.yaml doc 3) Referenced host+subset in destinationrule not found: "reviews+bogus"`,
			`Error [IST0101] (VirtualService default/reviews-mirror-bogussubset virtualservice_destinationrules.yaml doc 6) Referenced mirror+subset in destinationrule not found: "reviews+bogus"`,
		}
		if !slices.Equal(subsets, want) {
			t.Fatalf("subset messages:\n%s\nwant\n%s", strings.Join(subsets, "\n"), strings.Join(want, "\n"))
		}
		// The file has no Service reviews: every analyzer of istioctl analyze
		// run together also says its host is unknown, once per VirtualService
		// route and mirror destination, and once for the DestinationRule.
		if got := len(only(msgs, "IST0101")); got != 2+5+2 {
			t.Errorf("%d IST0101 messages:\n%s", got, lines(msgs))
		}
		if got := brief(only(msgs, "IST0174")); !slices.Equal(got, []string{"IST0174 DestinationRule default/reviews"}) {
			t.Errorf("IST0174: %q", got)
		}
		// With the Service and a v1 pod, only the two bogus subsets remain.
		in = append(in,
			Resource{Object: makeService("default", "reviews").selector("app", "reviews").port("http", 9080).obj()},
			Resource{Object: makePod("default", "reviews-v1").labels("app", "reviews", "version", "v1").obj()})
		msgs = Analyze(in)
		var got []string
		for _, m := range msgs {
			got = append(got, m.String())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("with the service:\n%s", lines(msgs))
		}
	})
	t.Run("destinationrule-subsets-with-topology-labels", func(t *testing.T) {
		// Istio: no false positives; node topology labels count.
		msgs := Analyze(readCorpus(t, "istio/pkg/config/analysis/analyzers/testdata/destinationrule-subsets-with-topology-labels.yaml"))
		if len(msgs) != 0 {
			t.Fatalf("want no messages:\n%s", lines(msgs))
		}
	})
	t.Run("pod-sec-uid", func(t *testing.T) {
		// Istio: InvalidApplicationUID on "Pod pod-sec-uid".
		msgs := Analyze(readCorpus(t, "istio/pkg/config/analysis/analyzers/testdata/pod-sec-uid.yaml"))
		want := []string{`Warning [IST0144] (Pod default/pod-sec-uid pod-sec-uid.yaml doc 1) User ID (UID) 1337 is reserved for the sidecar proxy.`}
		var got []string
		for _, m := range msgs {
			got = append(got, m.String())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got\n%s", lines(msgs))
		}
	})
	// Every fixture of the folder is covered above.
	entries, err := os.ReadDir(analyzerFixtures)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("%d analyzer fixtures: cover the new ones in this test", len(entries))
	}
}

// Bookinfo as its README applies it: the platform, every DestinationRule,
// all traffic to v1. Istio's analyzers say no more than this: the subsets
// whose Deployments Bookinfo keeps in other files have no pods. (Istio,
// reading files alone, would say it of every subset, having no pods at
// all; Weft counts the Deployments' templates.)
func TestAnalyzeBookinfo(t *testing.T) {
	in := readCorpus(t,
		"istio/samples/bookinfo/platform/kube/bookinfo.yaml",
		"istio/samples/bookinfo/networking/destination-rule-all.yaml",
		"istio/samples/bookinfo/networking/virtual-service-all-v1.yaml")
	msgs := Analyze(in)
	var got []string
	for _, m := range msgs {
		got = append(got, m.String())
	}
	want := []string{
		"Error [IST0173] (DestinationRule default/details destination-rule-all.yaml doc 4) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings destination-rule-all.yaml doc 3) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings destination-rule-all.yaml doc 3) The Subset v2-mysql defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings destination-rule-all.yaml doc 3) The Subset v2-mysql-vm defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s", lines(msgs))
	}
	if !strings.Contains(msgs[0].Fix, "the pods of Service default/details have version=v1") {
		t.Errorf("fix: %s", msgs[0].Fix)
	}

	// With the other versions' Deployments (bookinfo-details-v2 and
	// bookinfo-ratings-v2), only the MySQL subsets remain.
	in = append(in, readCorpus(t,
		"istio/samples/bookinfo/platform/kube/bookinfo-details-v2.yaml",
		"istio/samples/bookinfo/platform/kube/bookinfo-ratings-v2.yaml")...)
	msgs = Analyze(in)
	if got := brief(msgs); !slices.Equal(got, []string{"IST0173 DestinationRule default/ratings", "IST0173 DestinationRule default/ratings"}) {
		t.Fatalf("with v2:\n%s", lines(msgs))
	}

	// Running in an injected namespace, with the gateway: clean but for the
	// pods that predate the label.
	in = append(in, readCorpus(t, "istio/samples/bookinfo/networking/bookinfo-gateway.yaml")...)
	in = append(in, Resource{Object: namespace("default", "istio-injection", "enabled")},
		Resource{Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "details-v1-x", Namespace: "default", Labels: map[string]string{"app": "details", "version": "v1"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "details"}}}}})
	msgs = Analyze(in)
	if got := brief(msgs); !slices.Equal(got, []string{"IST0173 DestinationRule default/ratings", "IST0173 DestinationRule default/ratings", "IST0103 Pod default/details-v1-x"}) {
		t.Fatalf("with the gateway:\n%s", lines(msgs))
	}
}

// The seeds' flaskapp, sleep and httpbin with their routing: only sleep's
// port named "ssh" (no protocol Istio knows) is worth a word.
func TestAnalyzeSeeds(t *testing.T) {
	for _, vs := range []string{"13-flaskapp-vs-v1.yaml", "14-flaskapp-vs-70-30.yaml", "15-flaskapp-vs-canary.yaml", "16-flaskapp-vs-mirror.yaml"} {
		t.Run(vs, func(t *testing.T) {
			msgs := Analyze(readCorpus(t, "seeds/10-flaskapp.yaml", "seeds/11-sleep.yaml", "seeds/12-flaskapp-destinationrule.yaml", "seeds/"+vs,
				"seeds/20-httpbin.yaml", "seeds/21-httpbin-vs.yaml", "seeds/22-httpbin-circuit-breaker.yaml"))
			want := []string{"Info [IST0118] (Service default/sleep 11-sleep.yaml doc 1) Port name ssh (port: 80, targetPort: 0) doesn't follow the naming convention of Istio port."}
			var got []string
			for _, m := range msgs {
				got = append(got, m.String())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got\n%s", lines(msgs))
			}
		})
	}
	// All four VirtualServices of flaskapp are one object, each replacing
	// the last, as `apply` would.
	msgs := Analyze(readCorpus(t, "seeds/10-flaskapp.yaml", "seeds/12-flaskapp-destinationrule.yaml",
		"seeds/13-flaskapp-vs-v1.yaml", "seeds/14-flaskapp-vs-70-30.yaml"))
	if len(msgs) != 0 {
		t.Fatalf("got\n%s", lines(msgs))
	}
}

// Every document of the corpus, alone and all together: Analyze never
// panics, and every message is complete.
func TestAnalyzeWholeCorpus(t *testing.T) {
	var all []Resource
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		docs, _ := api.DecodeFile(p) // invalid documents are the validator's business
		var in []Resource
		for _, doc := range docs {
			in = append(in, Resource{Object: doc.Object, Origin: p})
		}
		all = append(all, in...)
		checkComplete(t, p, Analyze(in))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 200 {
		t.Fatalf("only %d documents", len(all))
	}
	checkComplete(t, "corpus", Analyze(all))
}

func checkComplete(t *testing.T, what string, msgs []Message) {
	t.Helper()
	for _, m := range msgs {
		if m.Type.Code == "" || m.Text == "" || m.Fix == "" || m.Resource.Kind == "" || m.Resource.Name == "" {
			t.Errorf("%s: incomplete message %+v", what, m)
		}
	}
}
