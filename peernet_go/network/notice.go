package network

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Notify reports msg, one line without a trailing newline, through
// c.Notice, or on standard error when c or c.Notice is nil. Transports
// use it for what a person starting them must know, such as a link
// that is not authenticated or where generated credentials were written.
func (c *Config) Notify(msg string) {
	if c != nil && c.Notice != nil {
		c.Notice(msg)
		return
	}
	noticeMu.Lock()
	defer noticeMu.Unlock()
	fmt.Fprintln(noticeOut, msg)
}

var (
	noticeMu  sync.Mutex
	noticeOut io.Writer = os.Stderr
)

// NoticeWriter returns a writer that passes each line written to it to
// c.Notify, for loggers that write to an io.Writer, such as the
// rate-limited log of lines that peers can trigger (internal/ratelog).
func (c *Config) NoticeWriter() io.Writer { return noticeWriter{c} }

type noticeWriter struct{ c *Config }

// Write passes each non-empty line of b to Notify.
func (w noticeWriter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			w.c.Notify(line)
		}
	}
	return len(b), nil
}
