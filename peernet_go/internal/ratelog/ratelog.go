// Package ratelog writes log lines that hostile or broken peers can
// trigger without flooding the log: per kind of message, the first few
// lines are written, then only a count per interval.
//
//	l := ratelog.New(os.Stderr, ratelog.Options{})
//	l.Printf("bad-frame", "server: bad frame from %s: %v", peer, err)
//	defer l.Flush() // "server: 13998 more bad-frame messages (suppressed)"
package ratelog

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultBurst    = 5
	DefaultInterval = 10 * time.Second
)

// Options configure a Logger.
type Options struct {
	// Burst is how many lines of a kind are written before they are only
	// counted. It defaults to DefaultBurst.
	Burst int
	// Interval is how often the count of suppressed lines of a kind is
	// written, and how long a kind must stay quiet before its burst is
	// allowed again. It defaults to DefaultInterval.
	Interval time.Duration
}

// Logger writes rate-limited lines to a writer. It is safe for concurrent
// use.
type Logger struct {
	w     io.Writer
	o     Options
	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	written    int       // lines written in the current burst
	suppressed int       // lines counted since the last report
	last       time.Time // of the last line, written or not
	reported   time.Time // of the last count written
}

// New returns a Logger writing to w.
func New(w io.Writer, o Options) *Logger {
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	return &Logger{w: w, o: o, kinds: map[string]*kind{}}
}

// Printf writes one line of the given kind (a newline is added), unless the
// kind's burst is used up; then the line is counted, and the count is
// written once per interval.
func (l *Logger) Printf(kindName, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	k := l.kinds[kindName]
	if k == nil {
		k = &kind{reported: now}
		l.kinds[kindName] = k
	}
	if now.Sub(k.last) > l.o.Interval && k.suppressed == 0 {
		k.written = 0 // quiet for an interval: a new burst
	}
	k.last = now
	if k.written < l.o.Burst {
		k.written++
		line := fmt.Sprintf(format, args...)
		fmt.Fprintln(l.w, strings.TrimRight(line, "\n"))
		if k.written == l.o.Burst {
			fmt.Fprintf(l.w, "(further %s messages are counted, not shown)\n", kindName)
			k.reported = now
		}
		return
	}
	k.suppressed++
	if now.Sub(k.reported) >= l.o.Interval {
		l.report(kindName, k, now)
	}
}

// Flush writes the counts of lines suppressed since the last report.
func (l *Logger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	for name, k := range l.kinds {
		if k.suppressed > 0 {
			l.report(name, k, now)
		}
	}
}

func (l *Logger) report(name string, k *kind, now time.Time) {
	fmt.Fprintf(l.w, "%d more %s messages in the last %v\n", k.suppressed, name, now.Sub(k.reported).Round(time.Second))
	k.suppressed = 0
	k.reported = now
}
