package policies

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// findings collects what validating one document finds: errors reject the
// document, warnings are shown to the user while it is accepted.
type findings struct {
	errs     field.ErrorList
	warnings []string
}

// add records errors, skipping nil ones so checks can be passed straight in.
func (f *findings) add(errs ...*field.Error) {
	for _, e := range errs {
		if e != nil {
			f.errs = append(f.errs, e)
		}
	}
}

func (f *findings) addList(errs field.ErrorList) {
	f.errs = append(f.errs, errs...)
}

// warn records a warning about the field at fldPath.
func (f *findings) warn(fldPath *field.Path, format string, args ...any) {
	f.warnings = append(f.warnings, fldPath.String()+": "+fmt.Sprintf(format, args...))
}

// invalid is field.Invalid with a formatted detail.
func invalid(fldPath *field.Path, value any, format string, args ...any) *field.Error {
	return field.Invalid(fldPath, value, fmt.Sprintf(format, args...))
}

// invalidErr turns a plain error from a syntax check into a field error,
// or returns nil when err is nil.
func invalidErr(fldPath *field.Path, value any, err error) *field.Error {
	if err == nil {
		return nil
	}
	return field.Invalid(fldPath, value, err.Error())
}

// duplicate is field.Duplicate with a detail saying what is duplicated.
func duplicate(fldPath *field.Path, value any, format string, args ...any) *field.Error {
	e := field.Duplicate(fldPath, value)
	e.Detail = fmt.Sprintf(format, args...)
	return e
}
