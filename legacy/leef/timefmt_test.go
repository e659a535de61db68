package leef

import (
	"strings"
	"testing"
	"time"
)

func TestGoLayout(t *testing.T) {
	tests := []struct {
		pattern string
		want    string
		wantErr string
	}{
		{pattern: "MMM dd yyyy HH:mm:ss", want: "Jan 02 2006 15:04:05"},
		{pattern: "MMM d yyyy H:mm:ss", want: "Jan 2 2006 15:04:05"},
		{pattern: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", want: "2006-01-02T15:04:05.000Z07:00"},
		{pattern: "yyyy-MM-dd HH:mm:ss,SSS Z", want: "2006-01-02 15:04:05,000 -0700"},
		{pattern: "EEE MMM dd HH:mm:ss z yyyy", want: "Mon Jan 02 15:04:05 MST 2006"},
		{pattern: "EEEE, MMMM d, yy h:mm a", want: "Monday, January 2, 06 3:04 PM"},
		{pattern: "dd/MM/yyyy hh:mm:ss", want: "02/01/2006 03:04:05"},
		{pattern: "yyyyMMddHHmmss", want: "20060102150405"},
		{pattern: "yyyy.DDD", want: "2006.002"},
		{pattern: "h 'o''clock' a", want: "3 o'clock PM"},
		{pattern: "HH''mm", want: "15'04"},
		{pattern: "yyyy-MM-dd X", want: "2006-01-02 Z07"},
		{pattern: "yyyy年MM月dd日", want: "2006年01月02日"},
		{pattern: "yyyy GG", wantErr: `unsupported letter "GG"`},
		{pattern: "kk:mm", wantErr: `unsupported letter "kk"`},
		{pattern: "HH:mm 'x", wantErr: "unterminated quote"},
		{pattern: "SSS", wantErr: "S must follow seconds"},
		{pattern: "ss SSS", wantErr: "S must follow seconds"},
		{pattern: "yyyy '2' MM", wantErr: "literal text a Go layout cannot express"},
		{pattern: "'Jan' yyyy", wantErr: "literal text a Go layout cannot express"},
		{pattern: "HH:mm 'PM'", wantErr: "literal text a Go layout cannot express"},
		{pattern: "0d", wantErr: "literal text a Go layout cannot express"},
		{pattern: "_d", wantErr: "literal text a Go layout cannot express"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := GoLayout(tt.pattern)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GoLayout() = %q, %v, want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("GoLayout() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	minus5 := time.FixedZone("EST", -5*3600)
	tests := []struct {
		in      string
		layout  string
		want    time.Time
		wantErr bool
	}{
		{in: "Jul 15 2024 10:12:11", want: time.Date(2024, 7, 15, 10, 12, 11, 0, minus5)},
		{in: "Jul  5 2024 10:12:11", want: time.Date(2024, 7, 5, 10, 12, 11, 0, minus5)},
		{in: "Jul 15 2024 10:12:11.5", want: time.Date(2024, 7, 15, 10, 12, 11, 5e8, minus5)},
		{in: "2024-07-15T10:12:11+02:00", want: time.Date(2024, 7, 15, 8, 12, 11, 0, time.UTC)},
		{in: "2024-07-15 10:12:11", want: time.Date(2024, 7, 15, 10, 12, 11, 0, minus5)},
		{in: "Mon Jul 15 10:12:11 UTC 2024", want: time.Date(2024, 7, 15, 10, 12, 11, 0, time.UTC)},
		{in: "1594550943000", want: time.UnixMilli(1594550943000)},
		{in: "1594550943", want: time.Unix(1594550943, 0)},
		{in: "15.07.2024 10:12", layout: "02.01.2006 15:04", want: time.Date(2024, 7, 15, 10, 12, 0, 0, minus5)},
		{in: "Jul 15 2024 10:12:11", layout: "02.01.2006", want: time.Date(2024, 7, 15, 10, 12, 11, 0, minus5)},
		{in: "", wantErr: true},
		{in: "15/07/2024", wantErr: true},
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTime(tt.in, tt.layout, minus5)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseTime() = %v, want an error", got)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("parseTime() = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}
