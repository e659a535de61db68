package syslog

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// Framing is how a message is delimited on a stream (RFC 6587).
type Framing uint8

// The framings. OctetCounting is "LEN SP MSG"; NonTransparent ends each
// message with a trailer, LF here (CRLF and NUL are read too).
const (
	NonTransparent Framing = iota
	OctetCounting
)

// String returns "non-transparent" or "octet-counting".
func (f Framing) String() string {
	if f == OctetCounting {
		return "octet-counting"
	}
	return "non-transparent"
}

// DefaultMaxSize is the default limit on one message, in bytes.
const DefaultMaxSize = 64 << 10

// maxCountDigits is the longest octet count Reader reads as one: ten digits
// cover any count up to the largest limit worth configuring. A longer run of
// digits is taken as the start of a newline-terminated message.
const maxCountDigits = 10

// frameSlack is what a frame may carry on top of the message: a CRLF
// trailer.
const frameSlack = 2

// FrameTooLargeError reports a message longer than the Reader's limit. The
// Reader has skipped the message when it returns this error; the next call
// to Next reads the message after it.
type FrameTooLargeError struct {
	Framing Framing
	// Length is the message's length in bytes: the octet count, or for a
	// newline-terminated message the bytes before its trailer.
	Length int64
	// Max is the Reader's limit.
	Max int
}

// Error implements error.
func (e *FrameTooLargeError) Error() string {
	return "syslog frame of " + strconv.FormatInt(e.Length, 10) + " bytes over the limit of " +
		strconv.Itoa(e.Max) + " (" + e.Framing.String() + ")"
}

// TruncatedError reports a stream that ended inside a message: fewer bytes
// than the octet count, or a last line without trailer. It matches
// io.ErrUnexpectedEOF with errors.Is.
type TruncatedError struct {
	Framing Framing
	// Partial holds the bytes of the message that did arrive, nil when the
	// message was over the limit. It is valid until the next call to Next.
	// A peer that closes the connection without ending its last line leaves
	// a complete message here.
	Partial []byte
}

// Error implements error.
func (e *TruncatedError) Error() string {
	return "syslog stream ended inside a " + e.Framing.String() + " frame after " +
		strconv.Itoa(len(e.Partial)) + " bytes"
}

// Is reports whether target is io.ErrUnexpectedEOF.
func (e *TruncatedError) Is(target error) bool { return target == io.ErrUnexpectedEOF }

// Reader reads syslog messages from a stream framed as RFC 6587 describes.
// It decides the framing for every message anew: a message that starts with
// a non-zero digit followed by more digits and a space is octet-counted,
// any other is newline-terminated. So a message without PRI that starts
// with, say, "12 " is misread; syslog messages start with '<'.
//
// Two sender habits are absorbed: an octet count that includes a trailing
// LF (the LF, or CRLF or NUL, is stripped from the message) and an LF after
// an octet-counted message that the count leaves out (empty lines between
// messages are skipped).
type Reader struct {
	br  *bufio.Reader
	max int
	// framing is the framing of the last message returned.
	framing Framing
	// err ends the stream: io.EOF, or the underlying reader's error.
	err error
}

// NewReader returns a Reader of r that accepts messages of up to maxSize
// bytes; maxSize, if zero or less, is DefaultMaxSize. It buffers at most
// maxSize plus a few bytes.
func NewReader(r io.Reader, maxSize int) *Reader {
	if maxSize <= 0 {
		maxSize = DefaultMaxSize
	}
	return &Reader{br: bufio.NewReaderSize(r, maxSize+frameSlack), max: maxSize}
}

// Framing returns the framing of the message Next returned last.
func (r *Reader) Framing() Framing { return r.framing }

// Next returns the next message, without its octet count or trailer. The
// slice is valid until the next call to Next.
//
// At the end of the stream Next returns io.EOF. It returns a
// *FrameTooLargeError for a message over the limit, which it has skipped:
// call Next again to go on. It returns a *TruncatedError when the stream
// ends inside a message, and after that io.EOF. An error from the
// underlying reader is returned as it is, and again on every later call.
func (r *Reader) Next() ([]byte, error) {
	for r.err == nil {
		b, err := r.br.Peek(1)
		if err != nil {
			r.err = err
			break
		}
		if b[0] >= '1' && b[0] <= '9' {
			n, width, ok, err := r.octetCount()
			if err != nil {
				// The stream ended, or failed, within the first few bytes
				// of a message, before its framing showed.
				r.framing = NonTransparent
				buf, _ := r.br.Peek(r.br.Buffered())
				r.discard(len(buf))
				return nil, r.truncated(err, buf)
			}
			if ok {
				r.framing = OctetCounting
				msg, err := r.readCounted(n, width)
				if err == nil && len(msg) == 0 {
					continue
				}
				return msg, err
			}
		}
		r.framing = NonTransparent
		msg, err := r.readLine()
		if err == nil && len(msg) == 0 {
			continue
		}
		return msg, err
	}
	return nil, r.err
}

// octetCount reads "LEN SP" at the start of the buffer without consuming it
// and without waiting for more bytes than it needs to decide. err is the
// error that stopped the stream before it could decide.
func (r *Reader) octetCount() (n int64, width int, ok bool, err error) {
	for i := 0; i <= maxCountDigits; i++ {
		b, err := r.br.Peek(i + 1)
		if len(b) <= i {
			return 0, 0, false, err
		}
		c := b[i]
		switch {
		case c == ' ' && i > 0:
			return n, i, true, nil
		case c >= '0' && c <= '9' && i < maxCountDigits:
			n = n*10 + int64(c-'0')
		default:
			return 0, 0, false, nil
		}
	}
	return 0, 0, false, nil
}

// readCounted consumes the "LEN SP" prefix of width digits and then the
// message of n bytes.
func (r *Reader) readCounted(n int64, width int) ([]byte, error) {
	r.discard(width + 1)
	if n > int64(r.max) {
		_, err := r.br.Discard(int(min(n, int64(maxInt))))
		if err != nil {
			return nil, r.truncated(err, nil)
		}
		return nil, &FrameTooLargeError{Framing: OctetCounting, Length: n, Max: r.max}
	}

	msg, err := r.br.Peek(int(n))
	if err != nil {
		r.discard(len(msg))
		return nil, r.truncated(err, msg)
	}
	r.discard(int(n))
	return trimTrailer(msg), nil
}

// readLine consumes a message up to and including its trailer (LF or NUL).
func (r *Reader) readLine() ([]byte, error) {
	scanned := 0
	for {
		buf, _ := r.br.Peek(r.br.Buffered())
		if i := indexTrailer(buf[scanned:]); i >= 0 {
			end := scanned + i
			r.discard(end + 1)
			msg := buf[:end]
			if buf[end] == '\n' && len(msg) > 0 && msg[len(msg)-1] == '\r' {
				msg = msg[:len(msg)-1]
			}
			if len(msg) > r.max {
				return nil, &FrameTooLargeError{Framing: NonTransparent, Length: int64(len(msg)), Max: r.max}
			}
			return msg, nil
		}
		scanned = len(buf)
		if len(buf) > r.max+1 {
			// Longer than the limit and its CR without a trailer in sight.
			return nil, r.skipLine()
		}
		if _, err := r.br.Peek(len(buf) + 1); err != nil {
			if err == bufio.ErrBufferFull {
				return nil, r.skipLine()
			}
			buf, _ = r.br.Peek(r.br.Buffered())
			r.discard(len(buf))
			return nil, r.truncated(err, buf)
		}
	}
}

// skipLine consumes bytes up to and including the next trailer, for a
// newline-terminated message over the limit.
func (r *Reader) skipLine() error {
	var n int64
	cr := false // the last byte skipped was CR
	for {
		buf, _ := r.br.Peek(r.br.Buffered())
		if i := indexTrailer(buf); i >= 0 {
			n += int64(i)
			if buf[i] == '\n' && (i > 0 && buf[i-1] == '\r' || i == 0 && cr) {
				n-- // CRLF is the trailer
			}
			r.discard(i + 1)
			return &FrameTooLargeError{Framing: NonTransparent, Length: n, Max: r.max}
		}
		if len(buf) > 0 {
			cr = buf[len(buf)-1] == '\r'
		}
		n += int64(len(buf))
		r.discard(len(buf))
		if _, err := r.br.Peek(1); err != nil {
			return r.truncated(err, nil)
		}
	}
}

// truncated turns the error that cut a message short into the error Next
// returns; partial is what arrived of the message.
func (r *Reader) truncated(err error, partial []byte) error {
	if err == io.EOF {
		r.err = io.EOF
		return &TruncatedError{Framing: r.framing, Partial: partial}
	}
	r.err = err
	return err
}

// discard consumes n buffered bytes.
func (r *Reader) discard(n int) {
	// Discarding bytes that are already buffered cannot fail.
	_, _ = r.br.Discard(n)
}

const maxInt = int(^uint(0) >> 1)

// indexTrailer returns the index of the first LF or NUL in b, or -1. Two
// passes of bytes.IndexByte, which looks at many bytes at a time, are
// several times faster than one loop over the bytes.
func indexTrailer(b []byte) int {
	lf := bytes.IndexByte(b, '\n')
	if lf >= 0 {
		b = b[:lf]
	}
	if nul := bytes.IndexByte(b, 0); nul >= 0 {
		return nul
	}
	return lf
}

// trimTrailer strips one trailer that a sender counted into an
// octet-counted message: LF, CRLF or NUL.
func trimTrailer(msg []byte) []byte {
	switch n := len(msg); {
	case n >= 2 && msg[n-2] == '\r' && msg[n-1] == '\n':
		return msg[:n-2]
	case n >= 1 && (msg[n-1] == '\n' || msg[n-1] == 0):
		return msg[:n-1]
	}
	return msg
}

// AppendFrame appends msg to dst framed as f and returns the extended slice:
// "LEN SP MSG" for OctetCounting, "MSG LF" for NonTransparent. A message
// that contains LF or NUL, or starts with a digit, needs OctetCounting to
// reach a Reader whole.
func AppendFrame(dst []byte, f Framing, msg []byte) []byte {
	if f == OctetCounting {
		dst = strconv.AppendInt(dst, int64(len(msg)), 10)
		dst = append(dst, ' ')
		return append(dst, msg...)
	}
	dst = append(dst, msg...)
	return append(dst, '\n')
}

// Writer writes framed syslog messages to a stream, one Write call per
// message. It is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	framing Framing
	buf     []byte
}

// NewWriter returns a Writer that frames messages as f.
func NewWriter(w io.Writer, f Framing) *Writer {
	return &Writer{w: w, framing: f}
}

// WriteMessage frames msg and writes it with a single Write call.
func (w *Writer) WriteMessage(msg []byte) error {
	w.buf = AppendFrame(w.buf[:0], w.framing, msg)
	_, err := w.w.Write(w.buf)
	return err
}
