package metrics

import "errors"

// SinkFunc adapts a function to a Sink whose Close does nothing.
type SinkFunc func(r *Record) error

var _ Sink = SinkFunc(nil)

// Write calls f(r).
func (f SinkFunc) Write(r *Record) error { return f(r) }

// Close does nothing.
func (f SinkFunc) Close() error { return nil }

// Multi returns a Sink that writes every record to each sink in order. Write
// goes on to the remaining sinks when one fails and returns the errors
// joined; so does Close. The returned Sink is also a Flusher: Flush flushes
// the sinks that are Flushers.
func Multi(sinks ...Sink) Sink {
	return multi(append([]Sink(nil), sinks...))
}

type multi []Sink

var (
	_ Sink    = multi(nil)
	_ Flusher = multi(nil)
)

func (m multi) Write(r *Record) error {
	var errs []error
	for _, s := range m {
		if err := s.Write(r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Flush flushes every sink that is a Flusher.
func (m multi) Flush() error {
	var errs []error
	for _, s := range m {
		if f, ok := s.(Flusher); ok {
			if err := f.Flush(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (m multi) Close() error {
	var errs []error
	for _, s := range m {
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
