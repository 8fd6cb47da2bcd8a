package framework

import (
	"errors"
	"strconv"
	"strings"
)

// Code says how a plugin's verdict should be taken.
type Code int

// Status codes, as in the Kubernetes scheduling framework.
const (
	// Success: the pod may go on (a nil *Status is Success too).
	Success Code = iota
	// Error: something went wrong that is not about the pod or the node;
	// the pod is retried after a back-off.
	Error
	// Unschedulable: the node does not fit the pod now; it may after
	// other pods leave.
	Unschedulable
	// UnschedulableAndUnresolvable: the node cannot fit the pod unless the
	// node itself changes (labels, taints, readiness).
	UnschedulableAndUnresolvable
	// Skip: returned by PreFilter or PreScore, the plugin has nothing to
	// do for this pod; its Filter or Score is not called in this cycle.
	Skip
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Skip"}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Status is a plugin's verdict: a code, the reasons shown to users (for
// example "Insufficient cpu"), the error behind an Error, and the plugin
// that returned it. A nil *Status means Success.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus makes a status with the given reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an error in a Status with code Error (nil for nil).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code is the status's code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess says whether the status is nil or Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip says whether the status is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected says whether the node was refused for the pod
// (Unschedulable or UnschedulableAndUnresolvable).
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons are the user-facing reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin is the name of the plugin that returned the status, set by the
// Framework.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records which plugin returned the status and returns s.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// AsError turns a non-success status into an error (nil otherwise). The
// error of an Error status is kept for errors.Is and errors.As.
func (s *Status) AsError() error {
	if s.IsSuccess() || s.IsSkip() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}
