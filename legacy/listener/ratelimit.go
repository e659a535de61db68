package listener

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// warnEvery is how often one kind of problem is logged at most.
const warnEvery = 10 * time.Second

// limitedLog logs a problem at most once per kind every interval and
// counts what it left out, for problems a sender can repeat at line rate.
type limitedLog struct {
	log   *slog.Logger
	now   func() time.Time
	every time.Duration

	mu    sync.Mutex
	kinds map[string]*kindState
}

type kindState struct {
	last       time.Time
	suppressed int64
}

func newLimitedLog(log *slog.Logger, now func() time.Time, every time.Duration) *limitedLog {
	return &limitedLog{log: log, now: now, every: every, kinds: map[string]*kindState{}}
}

// Log logs msg at level unless a message of the same kind was logged less
// than the interval ago. The first message after a quiet spell carries
// "suppressed", the number left out since the last one logged.
func (l *limitedLog) Log(level slog.Level, kind, msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	st := l.kinds[kind]
	if st != nil && now.Sub(st.last) < l.every {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	if st == nil {
		st = &kindState{}
		l.kinds[kind] = st
	}
	n := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()

	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Log(context.Background(), level, msg, args...)
}
