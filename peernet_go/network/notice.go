package network

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
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

// Defaults of a NoticeLimiter.
const (
	DefaultNoticeBurst    = 5
	DefaultNoticeInterval = 10 * time.Second
)

// NoticeLimiter passes on the first Burst notices of one kind — refused
// clients, bad datagrams — and then, while more keep coming, one line per
// Interval that counts them, so that a flood cannot fill a log:
//
//	refused := network.NewNoticeLimiter(cfg.Notify, "mqtt: refused clients")
//	defer refused.Close()
//	refused.Notice("mqtt: refused anonymous client edge-1 from 10.0.0.5:40312")
//
// After the first Burst it reports, once per Interval, "WHAT: N more in
// the last INTERVAL (last: MSG)". It is safe for concurrent use.
type NoticeLimiter struct {
	// Burst is how many notices pass before counting starts. It defaults
	// to DefaultNoticeBurst.
	Burst int
	// Interval is how often the count of the notices held back is
	// reported. It defaults to DefaultNoticeInterval.
	Interval time.Duration

	notify func(string)
	what   string

	mu     sync.Mutex
	passed int
	held   int
	last   string
	timer  *time.Timer
	closed bool
}

// NewNoticeLimiter returns a limiter that reports through notify; what
// names the kind of notice in the counting lines.
func NewNoticeLimiter(notify func(string), what string) *NoticeLimiter {
	return &NoticeLimiter{notify: notify, what: what}
}

// Notice reports msg, or counts it once Burst notices have passed.
func (l *NoticeLimiter) Notice(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	burst := l.Burst
	if burst <= 0 {
		burst = DefaultNoticeBurst
	}
	if l.passed < burst {
		l.passed++
		l.notify(msg)
		return
	}
	l.held++
	l.last = msg
	if l.timer == nil {
		l.timer = time.AfterFunc(l.interval(), l.flush)
	}
}

func (l *NoticeLimiter) interval() time.Duration {
	if l.Interval <= 0 {
		return DefaultNoticeInterval
	}
	return l.Interval
}

// flush reports the notices held back; l.mu must not be held.
func (l *NoticeLimiter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	l.report()
}

// report reports the count of the notices held back; l.mu must be held.
func (l *NoticeLimiter) report() {
	if l.held == 0 {
		return
	}
	l.notify(fmt.Sprintf("%s: %d more in the last %v (last: %s)", l.what, l.held, l.interval(), l.last))
	l.held, l.last = 0, ""
}

// Close reports the notices still held back and stops the limiter; later
// notices are dropped. Closing twice is harmless.
func (l *NoticeLimiter) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.closed = true
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.report()
}
