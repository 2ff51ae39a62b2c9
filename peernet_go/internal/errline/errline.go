// Package errline keeps error messages on one line — what a command prints,
// what a log line holds — without losing the error chain: errors.Is and
// errors.As still see every wrapped error.
//
//	return errline.Errorf("load model %s: %w", path, err) // err's lines joined, err still wrapped
package errline

import (
	"fmt"
	"strings"
)

// First returns s up to its first line break, trimmed.
func First(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// YAML returns a YAML parser's error on one line: its first, without the
// parser's "yaml: " prefix.
func YAML(err error) string { return strings.TrimPrefix(First(err.Error()), "yaml: ") }

// Flat returns s on one line: every run of white space, line breaks
// included, becomes one space.
func Flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// Errorf is fmt.Errorf whose message is on one line (see Flat); the error
// wraps what %w names, as fmt.Errorf's does.
func Errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &flat{msg: Flat(err.Error()), err: err}
}

type flat struct {
	msg string
	err error
}

func (e *flat) Error() string { return e.msg }

// Unwrap returns what fmt.Errorf's error wraps.
func (e *flat) Unwrap() []error {
	switch u := e.err.(type) { //nolint:errorlint // unwrapping one level is the point

	case interface{ Unwrap() []error }:
		return u.Unwrap()
	case interface{ Unwrap() error }:
		if w := u.Unwrap(); w != nil {
			return []error{w}
		}
	}
	return nil
}
