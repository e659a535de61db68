package forwarder

import "time"

// window holds the batches written on the current connection that may
// have to be written again should the connection break, oldest first. A
// batch leaves it, settled, once the proxy's TCP has acknowledged its last
// byte and keep has passed since it was written; or, when the window is
// full, as soon as it is acknowledged.
type window struct {
	keep time.Duration
	// limit bounds the messages held; batch is the most messages of one
	// batch. The window is full when it has no room for a batch that
	// large.
	limit, batch int

	items []*batch
	head  int // items[:head] have left
	n     int // messages in items[head:]
}

// len returns the number of messages held.
func (w *window) len() int { return w.n }

// room reports whether n more messages may be written.
func (w *window) room(n int) bool { return w.n+n <= w.limit }

func (w *window) full() bool { return !w.room(w.batch) }

func (w *window) push(b *batch) {
	if w.head > 0 && w.head >= len(w.items)/2 {
		// Reuse the array rather than let it grow with every push.
		n := copy(w.items, w.items[w.head:])
		clear(w.items[n:])
		w.items, w.head = w.items[:n], 0
	}
	w.items = append(w.items, b)
	w.n += b.len()
}

// due reports whether the oldest batch could settle by now if it were
// acknowledged, so that asking the socket is worth it.
func (w *window) due(now time.Time) bool {
	if w.head == len(w.items) {
		return false
	}
	return w.full() || now.Sub(w.items[w.head].at) >= w.keep
}

// settle lets go, oldest first, of the batches that may leave by now,
// given that the proxy acknowledged the connection's first acked bytes,
// and calls fn with each. A full window lets acknowledged batches go early
// until it holds at most three quarters of its limit, and room for a
// batch, so that writing resumes with room for a few.
func (w *window) settle(now time.Time, acked int64, fn func(*batch)) {
	floor := w.n
	if w.full() {
		floor = min(w.limit-w.limit/4, w.limit-w.batch)
	}
	for w.head < len(w.items) {
		b := w.items[w.head]
		if b.end > acked || (w.n <= floor && now.Sub(b.at) < w.keep) {
			return
		}
		w.items[w.head] = nil
		w.head++
		w.n -= b.len()
		fn(b)
	}
}

// take empties the window and returns its batches, oldest first.
func (w *window) take() []*batch {
	out := append([]*batch(nil), w.items[w.head:]...)
	clear(w.items)
	w.items, w.head, w.n = w.items[:0], 0, 0
	return out
}
