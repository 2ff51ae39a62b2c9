package network

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
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

func TestNoticeWriter(t *testing.T) {
	var got lines
	c := Loopback(0)
	c.Notice = got.add
	fmt.Fprintf(c.NoticeWriter(), "one\ntwo\r\n\n")
	fmt.Fprintln(c.NoticeWriter(), "three")
	if g := got.get(); !slices.Equal(g, []string{"one", "two", "three"}) {
		t.Errorf("lines %q", g)
	}
}
