package bridge

import (
	"context"
	"time"
)

// Message is one message a source received, decoded as far as it goes.
type Message struct {
	// Raw is the message as received, without framing. The legacy path
	// forwards exactly these bytes.
	Raw []byte
	// Alert is the Defender for IoT alert the message carries, nil when it
	// is not one (another vendor's event, plain syslog), and nil too from
	// a source told to hand on bytes only (a relay, which forwards Raw and
	// needs no Alert).
	Alert *Alert
	// Listener names the source that received the message; Peer is the
	// sender's address.
	Listener string
	Peer     string
	// Rule is the rule the source is bound to, nil when the source serves
	// any rule (the alert is then attributed with Route).
	Rule *RuleRef
	// ReceivedAt is when the message arrived.
	ReceivedAt time.Time
}

// Handler takes the messages a source receives.
//
// Handle returns once the message is accepted: on a durable queue, or
// written to the next hop. It blocks while the consumer is slow; a source
// over TCP then stops reading, so back-pressure reaches the sender instead
// of memory growing. It returns an error when the message cannot be
// accepted (the consumer is shutting down, or ctx ended); the source then
// counts the message as dropped. Handle may be called from many goroutines
// at once, and must not keep m.Raw after it returns unless it copies it.
type Handler interface {
	Handle(ctx context.Context, m *Message) error
}

// BatchHandler is a Handler that also takes many messages in one call. A
// source that reads messages many at a time (a TCP connection delivers
// them by the kilobyte) hands them on together when its Handler is a
// BatchHandler, which spares a call, a lock and a wake-up of the consumer
// per message.
type BatchHandler interface {
	Handler
	// HandleBatch is Handle for each message of ms in turn, in one call:
	// it returns once each message is accepted or refused, blocking while
	// the consumer is slow as Handle does. It returns nil when it
	// accepted every message, else one error per message of ms, nil for
	// those it accepted. It must not keep ms, or a message's Raw, after
	// it returns unless it copies them.
	HandleBatch(ctx context.Context, ms []Message) []error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m *Message) error { return f(ctx, m) }
