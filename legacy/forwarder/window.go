package forwarder

import "time"

// window holds the messages written on the current connection that may
// have to be written again should the connection break, oldest first. A
// message leaves it, settled, once the proxy's TCP has acknowledged its
// last byte and keep has passed since it was written; or, when the window
// holds limit messages, as soon as it is acknowledged.
type window struct {
	keep  time.Duration
	limit int

	items []*item
	head  int // items[:head] have left
}

func (w *window) len() int { return len(w.items) - w.head }

// room reports whether another message may be written.
func (w *window) room() bool { return w.len() < w.limit }

func (w *window) push(it *item) {
	if w.head > 0 && w.head >= len(w.items)/2 {
		// Reuse the array rather than let it grow with every push.
		n := copy(w.items, w.items[w.head:])
		clear(w.items[n:])
		w.items, w.head = w.items[:n], 0
	}
	w.items = append(w.items, it)
}

// due reports whether the oldest message could settle by now if it were
// acknowledged, so that asking the socket is worth it.
func (w *window) due(now time.Time) bool {
	if w.len() == 0 {
		return false
	}
	return !w.room() || now.Sub(w.items[w.head].at) >= w.keep
}

// settle lets go, oldest first, of the messages that may leave by now, given
// that the proxy acknowledged the connection's first acked bytes, and calls
// fn with each. A full window lets acknowledged messages go early until it
// is three quarters full, so that writing resumes with room for a batch.
func (w *window) settle(now time.Time, acked int64, fn func(*item)) {
	floor := w.len()
	if !w.room() {
		floor = min(w.limit-w.limit/4, w.limit-1)
	}
	for w.len() > 0 {
		it := w.items[w.head]
		if it.end > acked || (w.len() <= floor && now.Sub(it.at) < w.keep) {
			return
		}
		w.items[w.head] = nil
		w.head++
		fn(it)
	}
}

// take empties the window and returns its messages, oldest first.
func (w *window) take() []*item {
	out := append([]*item(nil), w.items[w.head:]...)
	clear(w.items)
	w.items, w.head = w.items[:0], 0
	return out
}
