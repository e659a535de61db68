package syslog

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkParser_Parse(b *testing.B) {
	for _, bc := range []struct{ name, msg string }{
		{"rfc3164", "<9>Mar  4 10:22:31 sensor-01 " + cefBody},
		{"rfc5424", "<9>1 2025-03-04T10:22:31.123+01:00 sensor-01 - - - - " + cefBody},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var p Parser
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(bc.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReader_Next(b *testing.B) {
	msg := []byte("<9>Mar  4 10:22:31 sensor-01 " + cefBody)
	var stream []byte
	for i := range 1000 {
		stream = AppendFrame(stream, Framing(i%2), msg)
	}
	src := bytes.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(stream)
		r := NewReader(src, 0)
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
