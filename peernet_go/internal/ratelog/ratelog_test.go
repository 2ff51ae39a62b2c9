package ratelog_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peernet/peernet_go/peernet_go/internal/ratelog"
)

func TestBurstThenCounts(t *testing.T) {
	var buf bytes.Buffer
	l := ratelog.New(&buf, ratelog.Options{Burst: 3, Interval: time.Hour})
	for i := range 14000 {
		l.Printf("bad-frame", "bad frame %d", i)
	}
	l.Printf("other", "something else")
	l.Flush()
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		"bad frame 0", "bad frame 1", "bad frame 2",
		"(further bad-frame messages are counted, not shown)",
		"something else",
	}
	if len(got) != len(want)+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(got), len(want)+1, buf.String())
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d = %q, want %q", i, got[i], w)
		}
	}
	if last := got[len(got)-1]; !strings.HasPrefix(last, "13997 more bad-frame messages in the last") {
		t.Errorf("last line %q, want the count of 13997 suppressed lines", last)
	}
}

func TestCountPerInterval(t *testing.T) {
	var buf bytes.Buffer
	l := ratelog.New(&buf, ratelog.Options{Burst: 1, Interval: 20 * time.Millisecond})
	deadline := time.Now().Add(110 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		l.Printf("junk", "junk %d", n)
		n++
		time.Sleep(time.Millisecond)
	}
	l.Flush()
	lines := strings.Count(buf.String(), "\n")
	// 2 burst lines, then about one count per 20 ms over 110 ms.
	if lines < 4 || lines > 10 {
		t.Fatalf("%d lines for %d messages over 110 ms:\n%s", lines, n, buf.String())
	}
	total := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		var c int
		if _, err := fmt.Sscanf(line, "%d more junk messages", &c); err == nil {
			total += c
		}
	}
	if total != n-1 {
		t.Fatalf("counts add up to %d, want %d", total, n-1)
	}
}
