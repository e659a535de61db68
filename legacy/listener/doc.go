// Package listener receives syslog from Defender for IoT sensors and other
// senders over UDP, TCP or TLS (RFC 5425), for the inline topology where a
// sensor's forwarding rule points at otbridge instead of the CEF proxy.
// Each message is decoded as far as it goes (legacy.MessageDecoder, any
// format) and handed to a bridge.Handler with its original bytes, so the
// legacy path can forward exactly what the sensor sent.
//
// What reaches the Handler. Every message that arrived whole, whatever it
// is: an alert, another vendor's event, plain syslog, and also a message
// that fails to decode (counted as a rejection, handed on with Alert nil).
// Not handed on: a message over Config.MaxMessageSize, and the piece of a
// message that a TCP sender cut short by closing the connection. A sender
// that closes the connection after a last line without its LF is common;
// that line is handed on when it decodes as a complete message (a syslog
// header, or a CEF or LEEF event, without error) and counted as truncated
// otherwise. An octet-counted message with fewer bytes than its count is
// always truncated.
//
// With WithoutAlerts (otbridge relay, which forwards bytes only) every
// message is decoded and counted all the same, but handed on without its
// Alert, which spares building one per message.
//
// TCP and TLS. A connection may mix both RFC 6587 framings, message by
// message (legacy/syslog.Reader). Its messages are handed on from its read
// loop in batches: just before each read of the socket, the messages read
// since the last one go on together, in one HandleBatch call when the
// Handler is a bridge.BatchHandler, else one Handle call each. So no
// message waits for more input, and a slow consumer stops the reads and
// TCP flow control slows the sender. A connection holds at most its
// framing buffer (MaxMessageSize), a batch of copies of no more bytes than
// that and at most 256 messages, and its kernel receive buffer
// (ReadBuffer). A message's ReceivedAt is when the read that completed it
// returned. A connection over MaxConnections is closed as soon as it is
// accepted; one that sends nothing for IdleTimeout is closed.
//
// UDP has no flow control: a read loop drains the socket, decodes each
// datagram (one datagram, one message) and puts it on a bounded queue
// (UDPQueue) that one worker hands to the Handler, in arrival order.
// A datagram that finds the queue full is dropped and counted, so the
// socket keeps being drained while the consumer is slow; on Linux the
// datagrams the kernel dropped because the socket buffer was full are
// counted too (SO_RXQ_OVFL).
//
// TLS certificates are reloaded without a restart: Reload re-reads the
// certificate, key and client CA files (call it on SIGHUP), and a new
// connection re-reads them by itself when their modification time or size
// changed, checking at most every few seconds. A set of files that does
// not load keeps the current certificate in service.
//
// Problems a sender causes (an oversized or truncated message, a decode
// error, a failed handshake, a connection over the limit) are counted in
// Stats and logged at Warn at most once per kind every ten seconds, with
// the number of warnings left out since; lost messages are logged at Error
// the same way.
package listener
