package listener

import "sync/atomic"

// Stats is a snapshot of a listener's counters, all counted since New.
// Received = Alerts + NotAlerts + Rejected.
type Stats struct {
	// Received counts the messages read: frames and datagrams, including
	// those rejected.
	Received int64
	// Alerts counts the messages that decoded to a Defender for IoT alert,
	// NotAlerts those that decoded to something else (plain syslog,
	// another vendor's event).
	Alerts    int64
	NotAlerts int64

	// Rejected is TooLarge + Truncated + DecodeErrors.
	Rejected int64
	// TooLarge counts messages over the size limit (not handed on).
	TooLarge int64
	// Truncated counts messages a TCP sender cut short by closing the
	// connection (not handed on).
	Truncated int64
	// DecodeErrors counts messages that failed to decode; they are still
	// handed on, with Alert nil.
	DecodeErrors int64

	// Dropped is HandlerErrors + QueueFull + SocketOverflow: messages
	// lost after they reached otbridge or its socket.
	Dropped int64
	// HandlerErrors counts messages the Handler refused.
	HandlerErrors int64
	// QueueFull counts datagrams dropped because the UDP queue was full.
	QueueFull int64
	// SocketOverflow counts datagrams the kernel dropped because the
	// socket's receive buffer was full (Linux only; zero elsewhere).
	SocketOverflow int64

	// ConnectionsCurrent is the number of TCP or TLS connections open now,
	// ConnectionsTotal those accepted, ConnectionsRefused those closed at
	// once because MaxConnections were open.
	ConnectionsCurrent int64
	ConnectionsTotal   int64
	ConnectionsRefused int64
	// TLSHandshakeFailures counts connections whose TLS handshake failed
	// or timed out.
	TLSHandshakeFailures int64
}

// counters are the live counters behind Stats.
type counters struct {
	received, alerts, notAlerts              atomic.Int64
	tooLarge, truncated, decodeErrors        atomic.Int64
	handlerErrors, queueFull, socketOverflow atomic.Int64
	connCurrent, connTotal, connRefused      atomic.Int64
	handshakeFailures                        atomic.Int64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Received:             c.received.Load(),
		Alerts:               c.alerts.Load(),
		NotAlerts:            c.notAlerts.Load(),
		TooLarge:             c.tooLarge.Load(),
		Truncated:            c.truncated.Load(),
		DecodeErrors:         c.decodeErrors.Load(),
		HandlerErrors:        c.handlerErrors.Load(),
		QueueFull:            c.queueFull.Load(),
		SocketOverflow:       c.socketOverflow.Load(),
		ConnectionsCurrent:   c.connCurrent.Load(),
		ConnectionsTotal:     c.connTotal.Load(),
		ConnectionsRefused:   c.connRefused.Load(),
		TLSHandshakeFailures: c.handshakeFailures.Load(),
	}
	s.Rejected = s.TooLarge + s.Truncated + s.DecodeErrors
	s.Dropped = s.HandlerErrors + s.QueueFull + s.SocketOverflow
	return s
}

// add adds what t counted.
func (c *counters) add(t *tally) {
	c.received.Add(t.received)
	if t.alerts > 0 {
		c.alerts.Add(t.alerts)
	}
	if t.notAlerts > 0 {
		c.notAlerts.Add(t.notAlerts)
	}
	if t.decodeErrors > 0 {
		c.decodeErrors.Add(t.decodeErrors)
	}
}
