package catalog

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

//go:embed defaults.yaml
var defaultsYAML []byte

// ErrImageNotFound is returned (wrapped in a *NotFoundError) when neither the
// catalogue nor the container's command says what to run.
var ErrImageNotFound = errors.New("image not found in the catalogue")

// NotFoundError says which image failed to resolve and which catalogues were searched.
type NotFoundError struct {
	Image   string
	Sources []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("image %q is not in the image catalogue (%s) and the container gives no command; add an entry with weft-agent --images FILE",
		e.Image, strings.Join(e.Sources, ", "))
}

// Unwrap makes errors.Is(err, ErrImageNotFound) true.
func (e *NotFoundError) Unwrap() error { return ErrImageNotFound }

// Entry maps image references to what runs for them.
type Entry struct {
	// Pattern is a glob on the repository: * matches any run of characters
	// (slashes included), ? one character.
	Pattern string `json:"pattern"`
	// Entrypoint and Cmd play the roles of an image's ENTRYPOINT and CMD.
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
}

type file struct {
	Images []Entry `json:"images"`
}

// Catalog resolves images; it is immutable once built.
type Catalog struct {
	entries []Entry // first match wins: extra file first, then built-ins
	sources []string
	dirs    []string
}

// Options configure a catalogue.
type Options struct {
	// File is an extra catalogue whose entries take precedence ("" for none).
	File string
	// Dirs are searched, in order, for a catalogue command's program before
	// $PATH (the agent passes the directory of its own binary).
	Dirs []string
}

// Load builds the catalogue from the built-in defaults and opts.File.
func Load(opts Options) (*Catalog, error) {
	c := &Catalog{dirs: opts.Dirs}
	if opts.File != "" {
		b, err := os.ReadFile(opts.File)
		if err != nil {
			return nil, fmt.Errorf("read image catalogue: %w", err)
		}
		entries, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("image catalogue %s: %w", opts.File, err)
		}
		c.entries = append(c.entries, entries...)
		c.sources = append(c.sources, opts.File)
	}
	entries, err := parse(defaultsYAML)
	if err != nil {
		return nil, fmt.Errorf("built-in image catalogue: %w", err)
	}
	c.entries = append(c.entries, entries...)
	c.sources = append(c.sources, "built-in catalogue")
	return c, nil
}

func parse(b []byte) ([]Entry, error) {
	var f file
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, err
	}
	for i, e := range f.Images {
		if e.Pattern == "" {
			return nil, fmt.Errorf("images[%d].pattern: required", i)
		}
	}
	return f.Images, nil
}

// Lookup returns the entry for an image, if any.
func (c *Catalog) Lookup(image string) (Entry, bool) {
	repo, _ := SplitImage(image)
	for _, e := range c.entries {
		if Glob(e.Pattern, repo) {
			return e, true
		}
	}
	return Entry{}, false
}

// Resolve returns the argv to run for a container with the given image,
// command and args (Kubernetes' rules), its program looked up when it came
// from the catalogue. A container's own command is left for the runtime to
// find in the container's $PATH.
func (c *Catalog) Resolve(image string, command, args []string) ([]string, error) {
	e, known := c.Lookup(image)
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(append([]string{}, command...), args...)
		return argv, nil
	case !known:
		return nil, &NotFoundError{Image: image, Sources: c.sources}
	case len(args) > 0:
		argv = append(append([]string{}, e.Entrypoint...), args...)
	default:
		argv = append(append([]string{}, e.Entrypoint...), e.Cmd...)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("image %q: its catalogue entry %q has no entrypoint or cmd and the container gives no command", image, e.Pattern)
	}
	if len(e.Entrypoint) > 0 {
		argv[0] = c.program(argv[0])
	}
	return argv, nil
}

// program finds a catalogue program in the configured directories, then
// $PATH; unfound, it is returned unchanged for the runtime to report.
func (c *Catalog) program(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, d := range c.dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

// SplitImage splits an image reference into repository and tag (the tag
// is "latest" when absent; a digest reference has its digest as the tag).
func SplitImage(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], image[i+1:]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[:i], image[i+1:]
	}
	return image, "latest"
}

// Glob matches s against pattern, where * matches any run of characters
// and ? any one character.
func Glob(pattern, s string) bool {
	// Iterative wildcard matching with backtracking to the last star.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
