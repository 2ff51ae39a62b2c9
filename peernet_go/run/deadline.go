package run

import (
	"context"
	"time"
)

// deadlines hands out contexts whose deadline lies between 3/4·d and d
// ahead, made afresh only when the current one has used up a quarter of d.
// A loop that needs a deadline on every call (the server's receive and
// reply) then pays for one timer every d/4 instead of one per call. It is
// not safe for concurrent use.
type deadlines struct {
	parent context.Context
	d      time.Duration
	ctx    context.Context
	cancel context.CancelFunc
	renew  time.Time
}

func newDeadlines(parent context.Context, d time.Duration) *deadlines {
	return &deadlines{parent: parent, d: d}
}

// get returns a context that ends within d.
func (l *deadlines) get() context.Context {
	now := time.Now()
	if l.ctx == nil || now.After(l.renew) || l.ctx.Err() != nil {
		l.stop()
		l.ctx, l.cancel = context.WithTimeout(l.parent, l.d)
		l.renew = now.Add(l.d / 4)
	}
	return l.ctx
}

// stop releases the current context's timer.
func (l *deadlines) stop() {
	if l.cancel != nil {
		l.cancel()
	}
}
