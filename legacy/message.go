// Package legacy is everything of the on-premises world that otbridge
// speaks: the rule inventory (legacy/inventory), syslog headers and framing
// (legacy/syslog), CEF and LEEF (legacy/cef, legacy/leef) and the sensor and
// management console REST API (legacy/sensorapi).
//
// This file ties the message codecs together: MessageDecoder reads one
// syslog message or bare CEF/LEEF line, whatever its format, into its
// parts and, when it is a Defender for IoT alert, a bridge.Alert.
package legacy

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy/cef"
	"github.com/otbridge/otbridge/legacy/leef"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// Format is what a MessageDecoder expects a message to be.
type Format string

// The message formats.
const (
	// FormatAuto reads a syslog header when there is one, then a CEF or LEEF
	// payload when there is one.
	FormatAuto Format = "auto"
	// FormatCEF requires a CEF event (a syslog header before it is read).
	FormatCEF Format = "cef"
	// FormatLEEF requires a LEEF event (a syslog header before it is read).
	FormatLEEF Format = "leef"
	// FormatSyslog reads the syslog header only and requires one.
	FormatSyslog Format = "syslog"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case FormatAuto, FormatCEF, FormatLEEF, FormatSyslog:
		return f, nil
	}
	return "", fmt.Errorf("unknown message format %q (want auto, cef, leef or syslog)", s)
}

// DefaultMaxMessageSize is the largest message a MessageDecoder accepts
// when its MaxSize is zero: 64 KiB.
const DefaultMaxMessageSize = 64 << 10

// ErrTooLarge is wrapped by the error for a message over the size limit.
var ErrTooLarge = errors.New("message too large")

// Message is one decoded message. Syslog, CEF and LEEF are set for the
// parts the message has; Alert when it is a Defender for IoT alert.
type Message struct {
	Syslog *syslog.Header
	CEF    *cef.Event
	LEEF   *leef.Message
	Alert  *bridge.Alert
	// NotAlert says why the message gave no alert (no CEF or LEEF event,
	// or another vendor's event), and Warnings what the mapping worked
	// around.
	NotAlert string
	Warnings []string
}

// MessageDecoder decodes messages in one Format. The zero value reads any
// format with the codecs' defaults. It is not safe for concurrent use.
type MessageDecoder struct {
	// Format, if empty, is FormatAuto.
	Format Format
	// MaxSize, if zero, is DefaultMaxMessageSize.
	MaxSize int
	// Location is the timezone of times written without one (the rule's
	// timezone). If nil, UTC.
	Location *time.Location
	// Now is the clock used to complete year-less times. If nil, time.Now.
	Now func() time.Time
	// CEF and LEEF are the alert mappings; their Location and Now are set
	// from the fields above.
	CEF  cef.Decoder
	LEEF leef.Mapper

	// event is reused between calls, so that decoding a CEF line does not
	// allocate its extensions anew.
	event cef.Event
	// scratch is what Classify decodes into and throws away.
	scratch struct {
		msg    Message
		header syslog.Header
		alert  bridge.Alert
	}
}

// Decode reads one message, without framing. A message that is not an
// alert is not an error: Message.Alert is then nil. Message.CEF points
// into the decoder and is valid until the next call; the Alert is the
// caller's. Decode returns an
// error for a message over the size limit, for a CEF or LEEF event that
// breaks its format, and for a message that lacks what Format requires.
func (d *MessageDecoder) Decode(raw []byte) (*Message, error) {
	if err := d.checkSize(raw); err != nil {
		return nil, err
	}
	return d.decode(&Message{}, new(syslog.Header), nil, raw, string(trimTrailers(raw)), true)
}

// Classify decodes raw exactly as Decode does, the alert mapping included,
// and reports whether it is a Defender for IoT alert, keeping nothing of
// it: for a consumer that counts what it forwards but needs no Alert. It
// returns Decode's error. Unlike Decode it does not copy raw, and it does
// not allocate for a plain syslog or CEF message that decodes.
func (d *MessageDecoder) Classify(raw []byte) (alert bool, err error) {
	if err := d.checkSize(raw); err != nil {
		return false, err
	}
	// The text shares raw's bytes: everything decoded from it stays in
	// the scratch space, which the next call overwrites, and is never
	// handed out. An error may quote the text, so it comes from Decode,
	// which owns its copy.
	b := trimTrailers(raw)
	text := unsafe.String(unsafe.SliceData(b), len(b))
	s := &d.scratch
	s.msg = Message{}
	if _, err := d.decode(&s.msg, &s.header, &s.alert, raw, text, false); err != nil {
		_, err = d.Decode(raw)
		return false, err
	}
	return s.msg.Alert != nil, nil
}

func (d *MessageDecoder) checkSize(raw []byte) error {
	max := d.MaxSize
	if max <= 0 {
		max = DefaultMaxMessageSize
	}
	if len(raw) > max {
		return fmt.Errorf("message of %d bytes exceeds the limit of %d: %w", len(raw), max, ErrTooLarge)
	}
	return nil
}

func (d *MessageDecoder) format() Format {
	if d.Format == "" {
		return FormatAuto
	}
	return d.Format
}

// trimTrailers cuts the line ends and NULs a sender left at the end.
func trimTrailers(raw []byte) []byte {
	n := len(raw)
	for n > 0 && (raw[n-1] == '\n' || raw[n-1] == '\r' || raw[n-1] == 0) {
		n--
	}
	return raw[:n]
}

// decode decodes text, which is raw without its trailers, into msg, using
// h and a as the room for its header and alert (a nil: a new one when
// there is an event), and returns msg, or nil
// when it fails before the payload. keep says whether msg leaves the
// decoder: only then does the alert get its copy of raw and msg its
// NotAlert reason.
func (d *MessageDecoder) decode(msg *Message, h *syslog.Header, a *bridge.Alert, raw []byte, text string, keep bool) (*Message, error) {
	format := d.format()
	sp := syslog.Parser{Location: d.Location, Now: d.Now}
	var herr error
	*h, herr = sp.Parse(text)
	if h.Format != syslog.FormatNone {
		msg.Syslog = h
	}
	if format == FormatSyslog {
		if herr != nil {
			return nil, fmt.Errorf("decode syslog: %w", herr)
		}
		if msg.Syslog == nil {
			return nil, errors.New("decode syslog: no syslog header (want <PRI> and an RFC 3164 or RFC 5424 header)")
		}
		return msg, nil
	}

	body := h.Body
	switch kind := payloadKind(body); {
	case kind == FormatCEF && format != FormatLEEF:
		return msg, d.decodeCEF(msg, a, raw, body, h.Timestamp, keep)
	case kind == FormatLEEF && format != FormatCEF:
		return msg, d.decodeLEEF(msg, a, raw, body, h, keep)
	case format == FormatCEF:
		return nil, errors.New("decode cef: no CEF event (want CEF:0|vendor|product|version|signature|name|severity|extensions)")
	case format == FormatLEEF:
		return nil, errors.New("decode leef: no LEEF event (want LEEF:1.0|vendor|product|version|event id|attributes)")
	}
	if keep {
		msg.NotAlert = "no CEF or LEEF event in the message"
	}
	return msg, nil
}

// payloadKind says which event marker comes first in the body, if any.
func payloadKind(body string) Format {
	// A LEEF marker after the CEF one does not matter: look before it.
	c := strings.Index(body, "CEF:")
	before := body
	if c >= 0 {
		before = body[:c]
	}
	switch {
	case strings.Contains(before, "LEEF:"):
		return FormatLEEF
	case c >= 0:
		return FormatCEF
	}
	return ""
}

func (d *MessageDecoder) decodeCEF(msg *Message, a *bridge.Alert, raw []byte, body string, sent time.Time, keep bool) error {
	ev := &d.event
	if err := cef.Parse(body, ev); err != nil {
		return fmt.Errorf("decode cef: %w", err)
	}
	msg.CEF = ev

	if a == nil {
		a = new(bridge.Alert)
	}
	dec := d.CEF
	dec.Location, dec.Now = d.Location, d.Now
	if err := dec.ToAlert(ev, a); err != nil {
		if errors.Is(err, cef.ErrNotDefender) {
			if keep {
				msg.NotAlert = fmt.Sprintf("CEF event of vendor %q, signature %q is not a Defender for IoT alert", ev.Vendor, ev.SignatureID)
			}
			return nil
		}
		return fmt.Errorf("map cef alert: %w", err)
	}
	if a.DetectedAt.IsZero() && !sent.IsZero() {
		a.DetectedAt = sent
	}
	if keep {
		a.Raw = append([]byte(nil), raw...)
	}
	msg.Alert = a
	return nil
}

func (d *MessageDecoder) decodeLEEF(msg *Message, a *bridge.Alert, raw []byte, body string, h *syslog.Header, keep bool) error {
	ev, err := leef.Decode([]byte(body))
	if err != nil {
		return fmt.Errorf("decode leef: %w", err)
	}
	msg.LEEF = ev

	if a == nil {
		a = new(bridge.Alert)
	}
	mp := d.LEEF
	mp.Location = d.Location
	la, warns, err := mp.Alert(ev)
	if err != nil {
		if errors.Is(err, leef.ErrNotDefender) {
			if keep {
				msg.NotAlert = fmt.Sprintf("LEEF event of vendor %q, event id %q is not a Defender for IoT alert", ev.Vendor, ev.EventID)
			}
			return nil
		}
		return fmt.Errorf("map leef alert: %w", err)
	}
	*a = la
	if keep {
		for _, w := range warns {
			msg.Warnings = append(msg.Warnings, w.String())
		}
	}
	// LEEF's product is the constant "Sensor": the sending host names the
	// sensor when the attributes do not.
	if a.Sensor == "" {
		a.Sensor = h.Hostname
	}
	if a.DetectedAt.IsZero() && !h.Timestamp.IsZero() {
		a.DetectedAt = h.Timestamp
	}
	if keep {
		a.Raw = append([]byte(nil), raw...)
	}
	msg.Alert = a
	return nil
}
