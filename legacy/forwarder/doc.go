// Package forwarder sends alerts to the legacy Sentinel CEF proxy (rsyslog
// or syslog-ng in front of the Azure Monitor Agent) over UDP, TCP or TLS,
// so that while rules migrate, the legacy path goes on as if the sensor
// still sent to the proxy itself.
//
// # What is sent
//
// A message that arrived as syslog is sent as exactly the bytes the sensor
// sent, syslog header included: the proxy cannot tell otbridge from the
// sensor. An alert read from the REST API has no such bytes; it is rendered
// as the sensor's CEF message (see cef.Encoder) with an RFC 3164 header, or
// RFC 5424 if configured, in the action's timezone.
//
// Over UDP every message is one datagram. Over TCP and TLS messages are
// framed as RFC 6587 describes, newline-terminated by default like the
// sensor, or octet-counted. A message that newline framing cannot carry
// intact, because it holds an LF or starts with a digit (which rsyslog
// takes for an octet count), is sent octet-counted even on a newline
// connection; rsyslog's imtcp and otbridge's own listener pick the framing
// message by message. Sensors escape line breaks in CEF, so their messages
// never need this.
//
// # Delivery
//
// Handle and HandleBatch copy messages onto a bounded in-memory queue
// (queue_size messages) and return; a full queue blocks them, which pushes
// back on the source. On the queue the messages gather into batches of up
// to 64 KiB (and, over TCP and TLS, a quarter of resend_limit): while Run
// writes one batch the next fills, and Run writes it with one write, so
// the busier the forwarder, the fewer writes per message; an idle Run
// writes a message as soon as it comes. Run writes to one connection and
// reconnects after a capped, jittered backoff.
//
// Over TCP and TLS delivery is at least once. TCP acknowledges bytes to the
// proxy's kernel, not to rsyslog: a write that returned may still be lost
// when the connection breaks, in the socket buffers of either side. So the
// forwarder keeps what it wrote on the current connection in a resend
// window: every message the proxy's TCP has not acknowledged (Linux tells;
// elsewhere every written byte counts as acknowledged), and every message
// for resend_window after its write. A background read on the connection
// notices at once when the proxy closes or resets it, a failed write
// notices the rest, and on Linux the kernel gives up a connection whose
// data stays unacknowledged for write_timeout. When the connection breaks,
// the window is written again on the next connection, before anything
// newer and in the original order.
//
// The price is duplicates: a message in the window that the proxy did
// process arrives twice after a break. Nothing is lost silently while the
// proxy fails within the window, that is, while it has acknowledged a
// message less than resend_window ago. Not covered are a proxy that takes
// longer than resend_window to process what its kernel accepted, and the
// proxy's own losses after that (rsyslog's in-memory queue when it
// crashes). A resent message may also follow a partial copy of itself that
// the broken connection carried: rsyslog keeps a newline-terminated
// fragment that ends its stream and drops an octet-counted one.
//
// Over UDP delivery is best effort: a write that fails is retried, but a
// datagram the proxy never reads cannot be noticed.
//
// A message is delivered, and reported to Options.OnDelivered, when it
// leaves the window; over UDP, when it is written. At shutdown Run stops
// taking messages, writes what it holds for at most drain_timeout, and
// closes the connection in an orderly way: when the proxy answers by
// closing its side, it has read everything, and the whole window counts as
// delivered. What is still held after that is dropped, counted, logged at
// Error and reported to Options.OnDropped, so that every accepted message
// is reported exactly once.
package forwarder
