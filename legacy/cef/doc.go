// Package cef reads and writes ArcSight Common Event Format (CEF) lines, and
// maps the alerts Defender for IoT sensors send in CEF onto bridge.Alert and
// back.
//
// The codec follows "Implementing ArcSight CEF" (revision 25): a header of
// seven pipe-terminated fields, "CEF:Version|Vendor|Product|DeviceVersion|
// SignatureID|Name|Severity|", with "\|" and "\\" escaped, then extensions
// "key=value" separated by spaces, where values may contain spaces and
// escape "\=", "\\", "\n" and "\r". Where the standard is silent the
// decoder leans towards keeping data rather than refusing a line:
//
//   - A key is one or more ASCII letters, digits or "_.,-[]" (the standard
//     keys are alphanumeric; ArcSight's own "ad." fields, "_cefVer" and
//     vendor keys like "src_ip" or "ad.Error_,Code" need the rest).
//   - A value runs to the space before the next "key="; every space before a
//     key separates, so a value never ends in a space.
//   - An "=" in a value that does not follow a key-shaped word after a space
//     is kept as text, though the standard wants it escaped.
//   - "\r" in a value is a carriage return, "\|" a pipe; any other backslash
//     is kept as it stands, as are unknown escapes in the header.
//   - A raw CR or LF inside the event is an error: the standard encodes
//     multi-line values, and a raw line break usually means two events were
//     run together. Line breaks and NULs at the very end are trimmed.
//   - Any version number of up to four digits is read (CEF:0 and CEF:1 are
//     in use); quotes have no special meaning; bytes are not checked to be
//     UTF-8.
//
// The encoder escapes exactly what the standard asks: "\" and "|" in the
// header, "\" and "=" in values; it writes CR, LF and CRLF in a value as
// "\n" (the one escape every reader maps to a line break) and as a space in
// the header, and drops from keys every byte the decoder would not read as
// part of a key.
//
// Decoding is written for the collector's hot path: strings are substrings
// of the line, unescaping happens only where a backslash is, and Decoder
// reuses its extension slice.
package cef
