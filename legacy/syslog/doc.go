// Package syslog reads and writes the syslog envelope around the alerts that
// Defender for IoT sensors forward: RFC 3164 (BSD) and RFC 5424 headers, and
// the two RFC 6587 ways of framing messages on a TCP stream (octet counting
// and newline-terminated).
//
// The header parser sits on the collector's hot path. Parse takes the
// message as a string and returns substrings of it, so reading a header
// allocates nothing. It is lenient where real senders are sloppy: a space
// after the priority, an unpadded day, a missing hostname or tag, a BSD
// header without a year (the year is inferred from an injectable clock), a
// message with no header at all. It is strict only where a sender claims
// RFC 5424 and breaks its grammar.
//
// Reader splits a TCP stream into messages, choosing the framing anew for
// every message, and never buffers more than its size limit: an oversized
// message is skipped and reported as a *FrameTooLargeError, after which the
// stream goes on. Header.Append and AppendFrame write what the parser and
// Reader read.
package syslog
