package network

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// lines collects notices.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (c *lines) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.l = append(c.l, s)
}

func (c *lines) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.l)
}

func TestNoticeLimiter(t *testing.T) {
	var got lines
	l := NewNoticeLimiter(got.add, "x: refused")
	l.Burst, l.Interval = 2, 30*time.Millisecond
	for i := range 5 {
		l.Notice(fmt.Sprint("n", i))
	}
	if g := got.get(); !slices.Equal(g, []string{"n0", "n1"}) {
		t.Fatalf("first burst: %q", g)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(got.get()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	want := []string{"n0", "n1", "x: refused: 3 more in the last 30ms (last: n4)"}
	if g := got.get(); !slices.Equal(g, want) {
		t.Fatalf("after one interval: %q, want %q", g, want)
	}
	l.Notice("n5")
	l.Close()
	want = append(want, "x: refused: 1 more in the last 30ms (last: n5)")
	if g := got.get(); !slices.Equal(g, want) {
		t.Fatalf("after Close: %q, want %q", g, want)
	}
	l.Notice("n6")
	l.Close()
	time.Sleep(50 * time.Millisecond)
	if g := got.get(); len(g) != len(want) {
		t.Fatalf("after Close, notices went on: %q", g)
	}
}

func TestNotify(t *testing.T) {
	var got lines
	c := Loopback(0)
	c.Notice = got.add
	c.Notify("hello")
	if g := got.get(); !slices.Equal(g, []string{"hello"}) {
		t.Errorf("Notice hook got %q", g)
	}
	var buf bytes.Buffer
	noticeOut = &buf
	defer func() { noticeOut = os.Stderr }()
	(*Config)(nil).Notify("to stderr")
	Loopback(0).Notify("again")
	if buf.String() != "to stderr\nagain\n" {
		t.Errorf("default output %q", buf.String())
	}
}
