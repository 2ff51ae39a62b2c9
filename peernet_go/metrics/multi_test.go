package metrics_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

func TestMulti(t *testing.T) {
	var seen []int
	var closed int
	collect := metrics.SinkFunc(func(r *metrics.Record) error { seen = append(seen, r.Iteration); return nil })
	failing := metrics.SinkFunc(func(r *metrics.Record) error { return errors.New("full") })
	var buf bytes.Buffer
	csv := metrics.NewCSVWriter(&buf)
	m := metrics.Multi(collect, failing, csv, closeCounter{&closed})
	r := okRecord(4)
	if err := m.Write(&r); err == nil || err.Error() != "full" {
		t.Fatalf("Write: %v", err)
	}
	if len(seen) != 1 || seen[0] != 4 {
		t.Fatalf("first sink saw %v", seen)
	}
	f, ok := m.(metrics.Flusher)
	if !ok {
		t.Fatal("Multi is not a Flusher")
	}
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\n4,") {
		t.Fatalf("the sink after the failing one did not get the record: %q", buf.String())
	}
	if err := m.Close(); err != nil || closed != 1 {
		t.Fatalf("Close: %v, %d closed", err, closed)
	}
}

type closeCounter struct{ n *int }

func (c closeCounter) Write(*metrics.Record) error { return nil }
func (c closeCounter) Close() error                { *c.n++; return nil }
