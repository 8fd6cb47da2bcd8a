package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Document is one object read from a file, a folder or stdin.
type Document struct {
	Source string // the file it came from, or "<stdin>"
	Index  int    // 1-based position among the non-empty documents of Source
	Object Object // typed, in its kind's storage version
}

// DocError says what is wrong with one document: where it is, which object
// it is, and every problem found, each with its field path.
type DocError struct {
	Source string
	Index  int
	Kind   string
	Name   string
	Causes []metav1.StatusCause
}

// CauseTypeFieldValueUnknown marks a field the schema does not have.
const CauseTypeFieldValueUnknown metav1.CauseType = "FieldValueUnknown"

// Where names the document: `flaskapp.yaml doc 2 (Deployment/flaskapp-v1)`.
func (e *DocError) Where() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
	}
	if e.Index > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "doc %d", e.Index)
	}
	if e.Kind != "" || e.Name != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "(%s/%s)", orDash(e.Kind), orDash(e.Name))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Error prints one line per problem, each prefixed with Where().
func (e *DocError) Error() string {
	where := e.Where()
	lines := make([]string, 0, len(e.Causes))
	for _, c := range e.Causes {
		msg := c.Message
		if c.Field != "" {
			msg = c.Field + ": " + msg
		}
		if where != "" {
			msg = where + ": " + msg
		}
		lines = append(lines, msg)
	}
	if len(lines) == 0 {
		return where + ": invalid"
	}
	return strings.Join(lines, "\n")
}

// Causes turns field errors into API status causes (the form the API
// server returns and DocError prints).
func Causes(errs field.ErrorList) []metav1.StatusCause {
	out := make([]metav1.StatusCause, 0, len(errs))
	for _, e := range errs {
		out = append(out, metav1.StatusCause{Type: metav1.CauseType(e.Type), Message: e.ErrorBody(), Field: e.Field})
	}
	return out
}

func unknownField(path string, hint string) metav1.StatusCause {
	msg := "unknown field"
	if hint != "" {
		msg += " (" + hint + ")"
	}
	return metav1.StatusCause{Type: CauseTypeFieldValueUnknown, Field: path, Message: msg}
}

// DecodePaths reads every file named (a folder: its .yaml, .yml and .json
// files, and with recursive those of its subfolders; "-": stdin). It returns
// every document that decoded, and an error joining a *DocError for each one
// that did not, so a caller can act on the good ones and report the rest.
func DecodePaths(paths []string, recursive bool, stdin io.Reader) ([]Document, error) {
	var docs []Document
	var errs []error
	for _, p := range paths {
		if p == "-" {
			d, err := DecodeReader("<stdin>", stdin)
			docs = append(docs, d...)
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		files, err := manifestFiles(p, recursive)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			d, err := DecodeFile(f)
			docs = append(docs, d...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	return docs, errors.Join(errs...)
}

func manifestFiles(p string, recursive bool) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read manifests in %s: %w", p, err)
	}
	sort.Strings(files)
	return files, nil
}

// DecodeFile reads one YAML or JSON file of one or more documents.
func DecodeFile(path string) ([]Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read manifests: %w", err)
	}
	defer f.Close()
	return DecodeReader(path, f)
}

// DecodeReader reads a stream of YAML documents (separated by `---`), or of
// JSON objects. Empty documents and comments are skipped; a `kind: List`
// contributes its items.
func DecodeReader(source string, r io.Reader) ([]Document, error) {
	chunks, err := splitDocuments(r)
	var errs []error
	if err != nil {
		errs = append(errs, &DocError{Source: source, Index: len(chunks) + 1, Causes: []metav1.StatusCause{{Message: err.Error()}}})
	}
	var docs []Document
	for i, c := range chunks {
		var objs []Object
		err := c.err
		if err == nil {
			objs, err = decodeDocument(c.json)
		} else {
			err = &DocError{Causes: []metav1.StatusCause{{Message: err.Error()}}}
		}
		for _, o := range objs {
			docs = append(docs, Document{Source: source, Index: i + 1, Object: o})
		}
		if err != nil {
			var de *DocError
			if errors.As(err, &de) {
				de.Source, de.Index = source, i+1
			}
			errs = append(errs, err)
		}
	}
	return docs, errors.Join(errs...)
}

// chunk is one non-empty document of a stream, as JSON, or why it is not JSON.
type chunk struct {
	json []byte
	err  error
}

// splitDocuments returns the non-empty documents of a YAML or JSON stream.
// The error is for the stream itself (a document boundary cannot be found).
func splitDocuments(r io.Reader) ([]chunk, error) {
	br := bufio.NewReader(r)
	var out []chunk
	if isJSONStream(br) {
		dec := json.NewDecoder(br)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				return out, nil
			} else if err != nil {
				return out, fmt.Errorf("parse JSON: %w", err)
			}
			out = append(out, chunk{json: raw})
		}
	}
	yr := utilyaml.NewYAMLReader(br)
	for {
		doc, err := yr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("read YAML: %w", err)
		}
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			out = append(out, chunk{err: fmt.Errorf("parse YAML: %w", err)})
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue
		}
		out = append(out, chunk{json: js})
	}
}

func isJSONStream(br *bufio.Reader) bool {
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil || len(b) < i {
			return false
		}
		switch c := b[i-1]; c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
}

// Decode decodes one object from JSON (or YAML) strictly into its storage
// version. Errors are *DocError without Source and Index.
func Decode(data []byte) (Object, error) {
	js := data
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		// YAML: the API's bodies and watch events are JSON and skip this
		// (the YAML parser was a quarter of weftd's CPU per write).
		var err error
		if js, err = yaml.YAMLToJSONStrict(data); err != nil {
			return nil, &DocError{Causes: []metav1.StatusCause{{Message: "parse: " + err.Error()}}}
		}
	}
	objs, err := decodeDocument(js)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, &DocError{Causes: []metav1.StatusCause{{Message: fmt.Sprintf("expected one object, found %d", len(objs))}}}
	}
	return objs[0], nil
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

func decodeDocument(js []byte) ([]Object, error) {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, &DocError{Causes: []metav1.StatusCause{{Message: "not an object: " + err.Error()}}}
	}
	derr := &DocError{Kind: h.Kind, Name: h.Metadata.Name}
	if h.APIVersion == "" {
		derr.Causes = append(derr.Causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueRequired, Field: "apiVersion", Message: "Required value"})
	}
	if h.Kind == "" {
		derr.Causes = append(derr.Causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueRequired, Field: "kind", Message: "Required value"})
	}
	if len(derr.Causes) > 0 {
		return nil, derr
	}
	if h.APIVersion == "v1" && h.Kind == "List" {
		var objs []Object
		var causes []metav1.StatusCause
		for i, item := range h.Items {
			o, err := decodeDocument(item)
			objs = append(objs, o...)
			var de *DocError
			if errors.As(err, &de) {
				for _, c := range de.Causes {
					c.Field = fmt.Sprintf("items[%d] (%s/%s)", i, orDash(de.Kind), orDash(de.Name)) + joinField(c.Field)
					causes = append(causes, c)
				}
			}
		}
		if len(causes) > 0 {
			derr.Causes = causes
			return objs, derr
		}
		return objs, nil
	}
	k, err := LookupKind(h.APIVersion, h.Kind)
	if err != nil {
		derr.Causes = append(derr.Causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueNotSupported, Field: "kind", Message: err.Error()})
		return nil, derr
	}
	version := h.APIVersion[strings.LastIndexByte(h.APIVersion, '/')+1:]
	obj := k.New(version)
	if k.IsIstio() {
		derr.Causes = decodeIstio(js, obj)
	} else {
		derr.Causes = decodeStrict(js, obj)
	}
	if len(derr.Causes) > 0 {
		return nil, derr
	}
	obj, err = ToStorage(obj)
	if err != nil {
		derr.Causes = []metav1.StatusCause{{Message: err.Error()}}
		return nil, derr
	}
	return []Object{obj}, nil
}

func joinField(f string) string {
	if f == "" {
		return ""
	}
	return "." + f
}

// decodeStrict decodes a Kubernetes object, reporting unknown and duplicate
// fields with their paths.
func decodeStrict(js []byte, obj any) []metav1.StatusCause {
	strictErrs, err := sigsjson.UnmarshalStrict(js, obj, sigsjson.DisallowUnknownFields, sigsjson.DisallowDuplicateFields)
	if err != nil {
		return []metav1.StatusCause{typeErrorCause(err)}
	}
	var causes []metav1.StatusCause
	for _, se := range strictErrs {
		causes = append(causes, strictCause(se))
	}
	return causes
}

// strictCause turns sigs.k8s.io/json's `unknown field "a.b[0].c"` into a cause with that path.
func strictCause(err error) metav1.StatusCause {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	for _, p := range []struct{ prefix, kind string }{{"unknown field ", "unknown field"}, {"duplicate field ", "duplicate field"}} {
		if rest, ok := strings.CutPrefix(msg, p.prefix); ok {
			path := strings.Trim(rest, `"`)
			if p.kind == "unknown field" {
				return unknownField(path, "")
			}
			return metav1.StatusCause{Type: metav1.CauseTypeFieldValueDuplicate, Field: path, Message: p.kind}
		}
	}
	return metav1.StatusCause{Message: msg}
}

func typeErrorCause(err error) metav1.StatusCause {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return metav1.StatusCause{Type: metav1.CauseTypeFieldValueInvalid, Field: te.Field,
			Message: fmt.Sprintf("Invalid value: a JSON %s where %s is expected", te.Value, goTypeName(te.Type.String()))}
	}
	return metav1.StatusCause{Message: strings.TrimPrefix(err.Error(), "json: ")}
}

func goTypeName(t string) string {
	switch t {
	case "int32", "int64", "int", "uint32", "uint64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(t, "[]") {
		return "a list"
	}
	if strings.HasPrefix(t, "map[") || strings.Contains(t, ".") {
		return "an object"
	}
	return t
}

// ToStorage converts an object to its kind's storage version (HPA v1 → v2;
// every other kind only has its TypeMeta version set).
func ToStorage(obj Object) (Object, error) {
	if v1, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler); ok {
		return HPAv1ToV2(v1), nil
	}
	k := KindOf(obj)
	if k == nil {
		return nil, fmt.Errorf("%w: %T", ErrUnknownKind, obj)
	}
	obj.GetObjectKind().SetGroupVersionKind(k.GroupVersion().WithKind(k.Kind))
	return obj, nil
}

// ToVersion converts a stored object to a served version of its kind.
func ToVersion(obj Object, version string) (Object, error) {
	k := KindOf(obj)
	if k == nil {
		return nil, fmt.Errorf("%w: %T", ErrUnknownKind, obj)
	}
	if !k.Serves(version) {
		return nil, fmt.Errorf("%s is not served in version %q", k.Kind, version)
	}
	if v2, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler); ok && version == "v1" {
		return HPAv2ToV1(v2), nil
	}
	out := obj.DeepCopyObject().(Object)
	out.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: k.Group, Version: version, Kind: k.Kind})
	return out, nil
}
