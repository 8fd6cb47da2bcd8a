package framework

import (
	"errors"
	"fmt"
	"sort"
)

// Factory builds a plugin.
type Factory func(h Handle) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]Factory

// ErrDuplicatePlugin is returned when a name is registered twice.
var ErrDuplicatePlugin = errors.New("a plugin with this name is already registered")

// Register adds a factory; a name already taken is refused.
func (r Registry) Register(name string, f Factory) error {
	if name == "" {
		return errors.New("register plugin: empty name")
	}
	if f == nil {
		return fmt.Errorf("register plugin %q: nil factory", name)
	}
	if _, ok := r[name]; ok {
		return fmt.Errorf("register plugin %q: %w", name, ErrDuplicatePlugin)
	}
	r[name] = f
	return nil
}

// Merge registers every plugin of other; a name taken in r is refused.
func (r Registry) Merge(other Registry) error {
	names := make([]string, 0, len(other))
	for n := range other {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := r.Register(n, other[n]); err != nil {
			return err
		}
	}
	return nil
}
