package policies

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// corpusDir is the shared corpus, relative to this package.
const corpusDir = "../testdata/corpus"

// verdict is Istio's own verdict on one corpus document, a row of
// VALIDATION-RESULTS.tsv.
type verdict struct {
	kindName string // "VirtualService/reviews"
	schema   string // CRD schema layer: "OK" or "ERR: ..."
	webhook  string // webhook layer: "OK" or "ERR: ..."
	warning  string // webhook warning, if any
	seen     bool
}

type docKey struct {
	file  string // slash-separated, relative to corpusDir
	index string // "#0"
}

func readVerdicts(t *testing.T) map[docKey]*verdict {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, "VALIDATION-RESULTS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[docKey]*verdict{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 5 {
			t.Fatalf("VALIDATION-RESULTS.tsv: short row %q", line)
		}
		v := &verdict{kindName: cols[2], schema: cols[3], webhook: cols[4]}
		if len(cols) > 5 {
			v.warning = strings.TrimSpace(cols[5])
		}
		verdicts[docKey{cols[0], cols[1]}] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return verdicts
}

// expectLine returns the "# expect:" comment of a corpus file, if any.
func expectLine(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "# expect:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// expectPattern turns the quoted error of an "# expect:" line
// ("... -> 'domain name ... invalid (label ... invalid)'") into a regexp
// where "..." stands for anything.
func expectPattern(expect string) *regexp.Regexp {
	_, quoted, ok := strings.Cut(expect, "-> ")
	if !ok {
		return nil
	}
	start, end := strings.Index(quoted, "'"), strings.LastIndex(quoted, "'")
	if start < 0 || end <= start {
		return nil
	}
	pieces := strings.Split(quoted[start+1:end], "...")
	for i, p := range pieces {
		pieces[i] = regexp.QuoteMeta(strings.TrimSpace(p))
	}
	return regexp.MustCompile(strings.Join(pieces, ".*"))
}

// TestCorpus validates every VirtualService and DestinationRule document of
// the corpus and compares the outcome with Istio's own verdict.
//
// Documents that Istio's CRD schema rejects (unknown fields such as
// websocketUpgrade or abort.percent, negative uint32 values) are the
// decoder's business: with the types' own UnmarshalJSON, unknown fields are
// dropped and the rest is validated like Istio's webhook does (its verdict
// is OK for those), while a value that does not fit its type (-1 in a uint32)
// fails to unmarshal and never reaches the validator. That is how
// consecutive5xxErrors: -1 is rejected; a uint32 cannot carry it here.
func TestCorpus(t *testing.T) {
	verdicts := readVerdicts(t)
	checked := 0
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, err := filepath.Rel(corpusDir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs, err := splitYAML(data)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		expect := expectLine(data)
		for _, doc := range docs {
			if doc.kind != "VirtualService" && doc.kind != "DestinationRule" {
				continue
			}
			key := docKey{rel, "#" + strconv.Itoa(doc.index)}
			v, ok := verdicts[key]
			if !ok {
				if !strings.HasPrefix(rel, "seeds/") {
					t.Errorf("%s %s %s/%s: no verdict in VALIDATION-RESULTS.tsv", rel, key.index, doc.kind, doc.name)
					continue
				}
				// The seeds are not in the TSV; their README says Weft must accept them.
				v = &verdict{kindName: doc.kind + "/" + doc.name, schema: "OK", webhook: "OK"}
			}
			v.seen = true
			checked++
			t.Run(rel+key.index, func(t *testing.T) {
				checkCorpusDoc(t, doc, v, expect)
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range verdicts {
		if !v.seen {
			t.Errorf("%s %s %s: in VALIDATION-RESULTS.tsv but not found in the corpus", k.file, k.index, v.kindName)
		}
	}
	t.Logf("checked %d VirtualService/DestinationRule documents against Istio's verdicts", checked)
}

func checkCorpusDoc(t *testing.T, doc yamlDoc, v *verdict, expect string) {
	if got := doc.kind + "/" + doc.name; got != v.kindName {
		t.Fatalf("document is %s, VALIDATION-RESULTS.tsv says %s", got, v.kindName)
	}
	var (
		errs      field.ErrorList
		warnings  []string
		decodeErr error
	)
	switch doc.kind {
	case "VirtualService":
		vs := &networking.VirtualService{}
		if decodeErr = vs.UnmarshalJSON(doc.spec); decodeErr == nil {
			errs, warnings = ValidateVirtualService(vs, specPath)
			if len(errs) == 0 {
				warnings = append(warnings, UnsupportedVirtualService(vs, specPath)...)
			}
		}
	case "DestinationRule":
		dr := &networking.DestinationRule{}
		if decodeErr = dr.UnmarshalJSON(doc.spec); decodeErr == nil {
			errs, warnings = ValidateDestinationRule(dr, specPath)
			if len(errs) == 0 {
				warnings = append(warnings, UnsupportedDestinationRule(dr, specPath)...)
			}
		}
	}

	if decodeErr != nil {
		// Only a document Istio could not decode either may fail here.
		if !strings.HasPrefix(v.schema, "ERR") || !strings.Contains(v.webhook, "CONVERT") {
			t.Fatalf("decode: %v (Istio: schema %s, webhook %s)", decodeErr, v.schema, v.webhook)
		}
		t.Logf("rejected while decoding, as by Istio: %v", decodeErr)
		return
	}
	if strings.Contains(v.webhook, "CONVERT") {
		t.Fatalf("decoded, but Istio could not decode it: %s", v.webhook)
	}

	for _, w := range warnings {
		t.Logf("warning: %s", w)
	}
	if v.webhook == "OK" {
		for _, e := range errs {
			t.Errorf("Istio accepts this document, we reject it: %v", e)
		}
		if v.warning != "" && !containsAny(warnings, v.warning) {
			t.Errorf("missing Istio's warning %q; have %q", v.warning, warnings)
		}
		if strings.HasPrefix(expect, "ACCEPTED") && len(errs) > 0 {
			t.Errorf("# expect: %s", expect)
		}
		return
	}

	want, ok := strings.CutPrefix(v.webhook, "ERR: ")
	if !ok {
		t.Fatalf("unknown webhook verdict %q", v.webhook)
	}
	if len(errs) == 0 {
		t.Fatalf("Istio rejects this document (%s), we accept it", want)
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
		t.Logf("error: %v", e)
	}
	if !containsAny(msgs, want) {
		t.Errorf("no error carries Istio's message %q; have %q", want, msgs)
	}
	if re := expectPattern(expect); re != nil && !matchesAny(msgs, re) {
		t.Errorf("no error matches the file's # expect: %q; have %q", re, msgs)
	}
}

func containsAny(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func matchesAny(list []string, re *regexp.Regexp) bool {
	for _, s := range list {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
