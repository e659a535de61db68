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
	// is not one (another vendor's event, plain syslog).
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

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, m *Message) error { return f(ctx, m) }
