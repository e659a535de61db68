package leef

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

func decodeFile(t *testing.T, name string) *Message {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s) error = %v", name, err)
	}
	return m
}

func TestMapper_Alert_samples(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}

	tests := []struct {
		file   string
		mapper Mapper
		want   bridge.Alert
	}{
		{
			file: "testdata/current.leef",
			want: bridge.Alert{
				Origin:        bridge.OriginSyslogLEEF,
				Vendor:        "Microsoft Defender for IoT",
				SignatureID:   "Microsoft Defender for IoT Alert",
				SensorVersion: "24.1.3",
				DetectedAt:    time.Date(2024, 7, 15, 10, 12, 11, 0, time.UTC),
				Title:         "Unauthorized PLC Programming",
				Message:       "Source device 10.20.1.15 was detected programming PLC 10.20.1.50 (S7 function=0x1D). Verify the change was planned.",
				Severity:      bridge.SeverityMajor,
				Engine:        bridge.EnginePolicyViolation,
				Protocol:      "S7",
				Category:      "Unauthorized Communication Behavior",
				Source:        bridge.Endpoint{IP: "10.20.1.15"},
				Destination:   bridge.Endpoint{IP: "10.20.1.50"},
			},
		},
		{
			file:   "testdata/cyberx.leef",
			mapper: Mapper{Location: berlin},
			want: bridge.Alert{
				Origin:        bridge.OriginSyslogLEEF,
				Vendor:        "CyberX",
				SignatureID:   "CyberX platform Alert",
				Sensor:        "plant-b-sensor",
				SensorVersion: "3.1.2",
				Site:          "Plant B",
				Zone:          "Line 2",
				ID:            "1287",
				UUID:          "1-1583222510000",
				DetectedAt:    time.Date(2020, 3, 3, 7, 1, 50, 0, time.UTC),
				Title:         "Illegal MODBUS Operation (Function Code Zero)",
				Message:       "A MODBUS packet with function code 0 was sent from 192.168.10.5 to 192.168.10.20.",
				Severity:      bridge.SeverityMajor,
				Engine:        bridge.EngineProtocolViolation,
				Category:      "Illegal Commands",
				Destination:   bridge.Endpoint{IP: "192.168.10.20", Name: "PLC-Line2"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, warns, err := tt.mapper.Alert(decodeFile(t, tt.file))
			if err != nil {
				t.Fatalf("Alert() error = %v", err)
			}
			if len(warns) > 0 {
				t.Errorf("Alert() warnings = %v", warns)
			}
			if !got.DetectedAt.Equal(tt.want.DetectedAt) {
				t.Errorf("DetectedAt = %v, want %v", got.DetectedAt, tt.want.DetectedAt)
			}
			got.DetectedAt = tt.want.DetectedAt
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Alert() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestMapper_Alert(t *testing.T) {
	const hdr = "LEEF:1.0|Microsoft Defender for IoT|Sensor|24.1.3|Microsoft Defender for IoT Alert|"
	plus3 := time.FixedZone("UTC+3", 3*3600)

	tests := []struct {
		name      string
		mapper    Mapper
		in        string
		check     func(t *testing.T, a bridge.Alert)
		wantWarns []string // keys
		wantErr   error
	}{
		{
			name: "vendor matched loosely",
			in:   "LEEF:1.0|  microsoft   DEFENDER for iot |Sensor|1|E|title=x",
			check: func(t *testing.T, a bridge.Alert) {
				if a.Title != "x" {
					t.Errorf("Title = %q", a.Title)
				}
			},
		},
		{
			name:    "other vendor",
			in:      "LEEF:1.0|Lancope|StealthWatch|1.0|41|src=10.0.0.1",
			wantErr: ErrNotDefender,
		},
		{
			name:    "configured vendors replace defaults",
			mapper:  Mapper{Vendors: []string{"Contoso OT"}},
			in:      hdr + "title=x",
			wantErr: ErrNotDefender,
		},
		{
			name:   "configured vendor accepted",
			mapper: Mapper{Vendors: []string{"Contoso OT"}},
			in:     "LEEF:1.0|contoso ot|Sensor|1|E|title=x",
			check:  func(t *testing.T, a bridge.Alert) {},
		},
		{
			name:    "event id filter",
			mapper:  Mapper{EventIDs: []string{"Microsoft Defender for IoT Alert"}},
			in:      "LEEF:1.0|Microsoft Defender for IoT|Sensor|1|System Notification|title=x",
			wantErr: ErrNotDefender,
		},
		{
			name: "unknown severity and engine are warnings",
			in:   hdr + "severity=Urgent\ttype=Quantum Engine",
			check: func(t *testing.T, a bridge.Alert) {
				if a.Severity != bridge.SeverityUnknown {
					t.Errorf("Severity = %v", a.Severity)
				}
				if a.Engine != "Quantum Engine" {
					t.Errorf("Engine = %q, want it verbatim", a.Engine)
				}
			},
			wantWarns: []string{"severity", "type"},
		},
		{
			name: "severity word beats sev",
			in:   hdr + "sev=1\tseverity=critical",
			check: func(t *testing.T, a bridge.Alert) {
				if a.Severity != bridge.SeverityCritical {
					t.Errorf("Severity = %v", a.Severity)
				}
			},
		},
		{
			name: "sev number",
			in:   hdr + "sev=4",
			check: func(t *testing.T, a bridge.Alert) {
				if a.Severity != bridge.SeverityMinor {
					t.Errorf("Severity = %v", a.Severity)
				}
			},
		},
		{
			name:      "sev out of range",
			in:        hdr + "sev=11",
			check:     func(t *testing.T, a bridge.Alert) {},
			wantWarns: []string{"sev"},
		},
		{
			name: "empty values count as absent",
			in:   hdr + "severity=\tsev=10\treporter= \tsenderName=s1",
			check: func(t *testing.T, a bridge.Alert) {
				if a.Severity != bridge.SeverityCritical || a.Sensor != "s1" {
					t.Errorf("Severity, Sensor = %v, %q", a.Severity, a.Sensor)
				}
			},
		},
		{
			name: "keys ignore case",
			in:   hdr + "Title=t\tSEVERITY=Minor\tuuid=1-2\tSRC_IP=10.0.0.1\tsrcMAC=00:11:22:33:44:55\tdst_mac=66:77:88:99:aa:bb\tproto=Modbus",
			check: func(t *testing.T, a bridge.Alert) {
				want := bridge.Endpoint{IP: "10.0.0.1", MAC: "00:11:22:33:44:55"}
				if a.Title != "t" || a.Severity != bridge.SeverityMinor || a.UUID != "1-2" || a.Source != want ||
					a.Destination.MAC != "66:77:88:99:aa:bb" || a.Protocol != "Modbus" {
					t.Errorf("Alert() = %+v", a)
				}
			},
		},
		{
			name:   "zoneless start in rule time zone",
			mapper: Mapper{Location: plus3},
			in:     hdr + "start=2024-07-15 13:00:00",
			check: func(t *testing.T, a bridge.Alert) {
				if want := time.Date(2024, 7, 15, 10, 0, 0, 0, time.UTC); !a.DetectedAt.Equal(want) {
					t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
				}
			},
		},
		{
			name:   "start with zone ignores location",
			mapper: Mapper{Location: plus3},
			in:     hdr + "start=2024-07-15T13:00:00Z",
			check: func(t *testing.T, a bridge.Alert) {
				if want := time.Date(2024, 7, 15, 13, 0, 0, 0, time.UTC); !a.DetectedAt.Equal(want) {
					t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
				}
			},
		},
		{
			name: "start as epoch milliseconds",
			in:   hdr + "start=1594550943000",
			check: func(t *testing.T, a bridge.Alert) {
				if want := time.UnixMilli(1594550943000); !a.DetectedAt.Equal(want) {
					t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
				}
			},
		},
		{
			name: "devTime with its format and milliseconds",
			in:   hdr + "devTime=15/07/2024 10:12:11.250\tdevTimeFormat=dd/MM/yyyy HH:mm:ss.SSS",
			check: func(t *testing.T, a bridge.Alert) {
				if want := time.Date(2024, 7, 15, 10, 12, 11, 250e6, time.UTC); !a.DetectedAt.Equal(want) {
					t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
				}
			},
		},
		{
			name: "devTime format unusable falls back to common layouts",
			in:   hdr + "devTime=Jul 15 2024 10:12:11\tdevTimeFormat=GGG yyyy",
			check: func(t *testing.T, a bridge.Alert) {
				if want := time.Date(2024, 7, 15, 10, 12, 11, 0, time.UTC); !a.DetectedAt.Equal(want) {
					t.Errorf("DetectedAt = %v, want %v", a.DetectedAt, want)
				}
			},
			wantWarns: []string{"devTimeFormat"},
		},
		{
			name: "unreadable start falls back to devTime",
			in:   hdr + "start=yesterday\tdevTime=Jul 15 2024 10:12:11",
			check: func(t *testing.T, a bridge.Alert) {
				if a.DetectedAt.IsZero() {
					t.Error("DetectedAt is zero")
				}
			},
			wantWarns: []string{"start"},
		},
		{
			name: "unreadable time leaves it zero",
			in:   hdr + "start=soon",
			check: func(t *testing.T, a bridge.Alert) {
				if !a.DetectedAt.IsZero() {
					t.Errorf("DetectedAt = %v", a.DetectedAt)
				}
			},
			wantWarns: []string{"start"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			got, warns, err := tt.mapper.Alert(msg)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Alert() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Alert() error = %v", err)
			}
			var keys []string
			for _, w := range warns {
				keys = append(keys, w.Key)
				if !strings.HasPrefix(w.String(), "leef attribute "+w.Key+"=") {
					t.Errorf("Warning.String() = %q", w.String())
				}
			}
			if strings.Join(keys, ",") != strings.Join(tt.wantWarns, ",") {
				t.Errorf("warnings = %v, want keys %v", warns, tt.wantWarns)
			}
			if got.Origin != bridge.OriginSyslogLEEF {
				t.Errorf("Origin = %q", got.Origin)
			}
			tt.check(t, got)
		})
	}
}
