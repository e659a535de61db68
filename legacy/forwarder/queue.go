package forwarder

import (
	"context"
	"sync"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

// batchBytes is the size from which a batch takes no more messages; a
// batch is one write over a stream.
const batchBytes = 64 << 10

// batches are the emptied batches kept for reuse: while messages flow,
// every batch is reused, and the garbage collector takes the pool back
// when they stop.
var batches = sync.Pool{New: func() any { return &batch{buf: make([]byte, 0, batchBytes+2<<10)} }}

// batch is accepted messages framed back to back in one buffer: what the
// writer writes in one go, and over a stream keeps in the resend window
// and writes again as a whole after a broken connection.
type batch struct {
	// buf holds the frames: framed for tcp and tls, bare for udp.
	buf []byte
	// ends are where the frames end in buf; over udp each is a datagram.
	ends []int
	// msgs are copies of the messages, kept only for the Options
	// callbacks; nil without them.
	msgs []*bridge.Message
	// done counts the frames written on this pass: over udp a failed
	// write leaves the rest to write again.
	done int
	// sent says whether the batch was written before.
	sent bool
	// end counts the bytes written on the current connection up to the
	// end of this batch, and at is when it was written there.
	end int64
	at  time.Time
}

// len returns the number of messages.
func (b *batch) len() int { return len(b.ends) }

// queue holds the accepted messages until the writer takes them, in
// batches, oldest first. Handle appends to the newest batch while the
// writer has not taken it and it has room (batchBytes, and maxMsgs
// messages), so that while the writer is busy the messages gather into
// large writes, and when it is idle a message goes on its own at once.
type queue struct {
	// size bounds the messages queued; maxMsgs those of one batch.
	size, maxMsgs int

	mu sync.Mutex
	// batches[head:] are queued.
	batches []*batch
	head    int
	n       int // messages in batches
	closed  bool
	// waiting counts the Handle calls waiting for room; room is closed,
	// and replaced, when the writer takes messages while some wait, and
	// when the queue closes.
	waiting int
	room    chan struct{}

	// ready holds a signal that the queue is no longer empty (or closed).
	ready chan struct{}
}

func newQueue(size, maxMsgs int) *queue {
	return &queue{size: size, maxMsgs: maxMsgs, room: make(chan struct{}), ready: make(chan struct{}, 1)}
}

// waitRoom returns once the queue has room for a message, with q.mu held
// as on entry, or returns ErrClosed or ctx's error.
func (q *queue) waitRoom(ctx context.Context) error {
	for {
		if q.closed {
			return ErrClosed
		}
		if q.n < q.size {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		room := q.room
		q.waiting++
		q.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
		}
		q.mu.Lock()
		q.waiting--
	}
}

// open returns the batch that takes the next message, with q.mu held: the
// newest one while it has room, else a new one.
func (q *queue) open() *batch {
	if k := len(q.batches); k > q.head {
		b := q.batches[k-1]
		if len(b.buf) < batchBytes && b.len() < q.maxMsgs {
			return b
		}
	}
	b := batches.Get().(*batch)
	if q.head > 0 && q.head >= len(q.batches)/2 {
		// Reuse the array rather than let it grow with every batch.
		n := copy(q.batches, q.batches[q.head:])
		clear(q.batches[n:])
		q.batches, q.head = q.batches[:n], 0
	}
	q.batches = append(q.batches, b)
	return b
}

// added counts n messages that went into the open batch, with q.mu held,
// and tells the writer when the queue was empty.
func (q *queue) added(n int) {
	if q.n == 0 && n > 0 {
		q.signal()
	}
	q.n += n
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take removes the oldest batch and returns it, or nil when the queue is
// empty. Handle calls waiting for room go on.
func (q *queue) take() *batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.batches) {
		return nil
	}
	b := q.batches[q.head]
	q.batches[q.head] = nil
	q.head++
	if q.head == len(q.batches) {
		q.batches, q.head = q.batches[:0], 0
	}
	q.n -= b.len()
	if q.waiting > 0 {
		close(q.room)
		q.room = make(chan struct{})
	}
	return b
}

// close makes the queue refuse messages and wakes those waiting for room.
// The writer takes what is left with take.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	close(q.room)
	q.signal()
}

// recycle keeps b, whose messages are delivered, for reuse.
func recycle(b *batch) {
	if cap(b.buf) > 4*batchBytes {
		return // grown for a large message: let it go
	}
	b.buf, b.ends = b.buf[:0], b.ends[:0]
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	b.done, b.sent, b.end, b.at = 0, false, 0, time.Time{}
	batches.Put(b)
}
