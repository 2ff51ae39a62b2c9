package report

import (
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/metrics"
)

func TestSeriesStaysBounded(t *testing.T) {
	s := series{stride: 1}
	const n = 1_000_003
	var maxRTT time.Duration
	for i := range n {
		r := metrics.Record{Iteration: i, Status: metrics.OK, RTT: time.Duration(1000 + i%777)}
		if i%1000 == 0 {
			r.Status = metrics.Lost
		}
		maxRTT = max(maxRTT, r.RTT)
		s.add(&r)
		if len(s.buckets) > MaxSeriesPoints {
			t.Fatalf("%d buckets after %d records", len(s.buckets), i+1)
		}
	}
	var ok, lost int
	next := 0
	for _, b := range s.buckets {
		if b.first != next || b.last < b.first {
			t.Fatalf("bucket %+v does not follow iteration %d", b, next-1)
		}
		next = b.last + 1
		ok += b.n
		lost += b.lost
	}
	if next != n || ok+lost != n || lost != 1001 {
		t.Fatalf("buckets cover %d iterations, %d ok + %d lost", next, ok, lost)
	}
	if s.stride != 512 || len(s.buckets) < MaxSeriesPoints/2 {
		t.Fatalf("stride %d with %d buckets", s.stride, len(s.buckets))
	}
	var top float64
	for _, b := range s.buckets {
		top = max(top, b.max)
	}
	if top != maxRTT.Seconds() {
		t.Fatalf("max %v, want %v", top, maxRTT.Seconds())
	}
}
