package sensorapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/bridge"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden is the form of a Result kept in testdata/*.golden.
type golden struct {
	Origin   bridge.Origin  `json:"origin"`
	Alerts   []bridge.Alert `json:"alerts"`
	Skipped  []string       `json:"skipped,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
}

func toGolden(res *Result) golden {
	g := golden{Origin: res.Origin, Alerts: res.Alerts}
	for _, e := range res.Skipped {
		g.Skipped = append(g.Skipped, e.Error())
	}
	for _, e := range res.Warnings {
		g.Warnings = append(g.Warnings, e.Error())
	}
	return g
}

func TestDecoder_DecodeBytes_golden(t *testing.T) {
	tests := []struct {
		file    string
		decoder Decoder
	}{
		{file: "sensor_v1.json", decoder: Decoder{API: APISensor, Sensor: "plant-a-sensor"}},
		{file: "sensor_v2.json", decoder: Decoder{Sensor: "plant-a-sensor"}},
		{file: "console_v1.json"},
		{file: "console_v2.json", decoder: Decoder{Sensor: "unused"}},
		{file: "quirks.json"},
		{file: "malformed.json", decoder: Decoder{API: APIConsole}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := tt.decoder.DecodeBytes(doc)
			if err != nil {
				t.Fatalf("DecodeBytes() error = %v", err)
			}
			got, err := json.MarshalIndent(toGolden(res), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')

			name := filepath.Join("testdata", strings.TrimSuffix(tt.file, ".json")+".golden")
			if *update {
				if err := os.WriteFile(name, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(name)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DecodeBytes(%s) differs from %s:\n%s", tt.file, name, got)
			}
		})
	}
}

func TestDecoder_DecodeBytes(t *testing.T) {
	tests := []struct {
		name       string
		decoder    Decoder
		doc        string
		wantOrigin bridge.Origin
		wantIDs    []string
		wantErr    string
	}{
		{name: "empty array", doc: "[]", wantOrigin: bridge.OriginSensorAPI},
		{name: "null document", doc: " null ", wantOrigin: bridge.OriginSensorAPI},
		{name: "byte order mark", doc: "\uFEFF[{\"id\":1}]", wantOrigin: bridge.OriginSensorAPI, wantIDs: []string{"1"}},
		{name: "auto finds console field in a later alert", doc: `[{"id":1},{"id":2,"siteId":null}]`, wantOrigin: bridge.OriginConsoleAPI, wantIDs: []string{"1", "2"}},
		{name: "auto console field in any case", doc: `[{"id":1,"uuid":"1-2"}]`, wantOrigin: bridge.OriginConsoleAPI, wantIDs: []string{"1"}},
		{name: "explicit sensor wins over fields", decoder: Decoder{API: APISensor}, doc: `[{"id":1,"UUID":"1-2"}]`, wantOrigin: bridge.OriginSensorAPI, wantIDs: []string{"1"}},
		{name: "explicit console", decoder: Decoder{API: APIConsole}, doc: `[{"id":1}]`, wantOrigin: bridge.OriginConsoleAPI, wantIDs: []string{"1"}},
		{name: "large integer id kept exactly", doc: `[{"id":123456789012345678901234567890}]`, wantOrigin: bridge.OriginSensorAPI, wantIDs: []string{"123456789012345678901234567890"}},
		{name: "empty document", doc: "  ", wantErr: "decode alerts: empty document"},
		{name: "object", doc: `{"error":"unauthorized"}`, wantErr: "document is an object, want a JSON array"},
		{name: "string", doc: `"alerts"`, wantErr: "document is a string"},
		{name: "number", doc: `42`, wantErr: "document is a number"},
		{name: "not JSON", doc: `<html>`, wantErr: "invalid JSON at offset 1"},
		{name: "too large", decoder: Decoder{MaxBytes: 10}, doc: `[{"id":12345}]`, wantErr: "exceeds 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.decoder.DecodeBytes([]byte(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DecodeBytes() error = %v, want %q", err, tt.wantErr)
				}
				if res != nil {
					t.Errorf("DecodeBytes() result = %+v, want nil", res)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeBytes() error = %v", err)
			}
			if res.Origin != tt.wantOrigin {
				t.Errorf("Origin = %q, want %q", res.Origin, tt.wantOrigin)
			}
			var ids []string
			for _, a := range res.Alerts {
				ids = append(ids, a.ID)
				if a.Origin != tt.wantOrigin {
					t.Errorf("alert %s Origin = %q", a.ID, a.Origin)
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("alert ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestDecoder_DecodeBytes_broken(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantIDs []string
		wantErr string
	}{
		{name: "cut inside an alert", doc: `[{"id":1},{"id":2},{"id":`, wantIDs: []string{"1", "2"}, wantErr: "alert 2 at offset 19: document ends early, after 25 bytes"},
		{name: "invalid alert", doc: `[{"id":1}, {"id":2,,}]`, wantIDs: []string{"1"}, wantErr: "alert 1 at offset 11: invalid JSON at offset"},
		{name: "array not closed", doc: `[{"id":1}`, wantIDs: []string{"1"}, wantErr: "array not closed"},
		{name: "trailing data", doc: `[{"id":1}] [{"id":2}]`, wantIDs: []string{"1"}, wantErr: "unexpected data after the array at offset 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decoder
			res, err := d.DecodeBytes([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("DecodeBytes() error = %v, want %q", err, tt.wantErr)
			}
			if res == nil {
				t.Fatal("DecodeBytes() result = nil, want the alerts before the break")
			}
			var ids []string
			for _, a := range res.Alerts {
				ids = append(ids, a.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("alert ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestDecoder_Decode(t *testing.T) {
	doc := `[{"id":1,"time":1721038331000}]`

	d := Decoder{MaxBytes: int64(len(doc))}
	res, err := d.Decode(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("Decode() at the limit error = %v", err)
	}
	if len(res.Alerts) != 1 || !res.Alerts[0].DetectedAt.Equal(time.UnixMilli(1721038331000)) {
		t.Errorf("Decode() alerts = %+v", res.Alerts)
	}

	d.MaxBytes--
	_, err = d.Decode(strings.NewReader(doc))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Decode() over the limit error = %v, want ErrTooLarge", err)
	}

	_, err = d.Decode(failingReader{})
	if err == nil || !strings.Contains(err.Error(), "read alerts: disk on fire") {
		t.Fatalf("Decode() read error = %v", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// TestDecoder_DecodeBytes_caseInsensitive pins that member names match in
// any case at every level, as the documentation's own example needs.
func TestDecoder_DecodeBytes_caseInsensitive(t *testing.T) {
	for _, doc := range []string{
		`[{"id":1,"additionalInformation":{"description":"d","information":["i"]}}]`,
		`[{"id":1,"additionalinformation":{"description":"d","information":["i"]}}]`,
		`[{"id":1,"ADDITIONALINFORMATION":{"DESCRIPTION":"d","Information":["i"]}}]`,
		`[{"id":1,"AdditionalInformation":{"Description":"d","INFORMATION":"i"}}]`,
	} {
		var d Decoder
		res, err := d.DecodeBytes([]byte(doc))
		if err != nil {
			t.Fatalf("DecodeBytes(%s) error = %v", doc, err)
		}
		if len(res.Alerts) != 1 {
			t.Fatalf("DecodeBytes(%s) = %+v", doc, res)
		}
		got := res.Alerts[0].AdditionalInfo
		if got == nil || got.Description != "d" || len(got.Information) != 1 || got.Information[0] != "i" {
			t.Errorf("DecodeBytes(%s) AdditionalInfo = %+v", doc, got)
		}
	}
}

func TestDecoder_DecodeBytes_offsets(t *testing.T) {
	doc := "[\n  {\"id\": 1},\n  {\"id\": 2, \"time\": \"soon\"},\n  {\"id\": 3, \"additionalInformation\": {\"information\": {}}}\n]"
	var d Decoder
	res, err := d.DecodeBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 2 {
		t.Fatalf("Skipped = %v", res.Skipped)
	}
	for _, tt := range []struct {
		e     *ElementError
		index int
		field string
		at    string
	}{
		{res.Skipped[0], 1, "time", `"soon"`},
		{res.Skipped[1], 2, "additionalInformation.information", `{}`},
	} {
		if tt.e.Index != tt.index || tt.e.Field != tt.field || !strings.HasPrefix(doc[tt.e.Offset:], tt.at) {
			t.Errorf("ElementError = %+v (at %q), want index %d field %s at %s", tt.e, doc[tt.e.Offset:], tt.index, tt.field, tt.at)
		}
	}
}

func TestParseAPI(t *testing.T) {
	tests := []struct {
		in      string
		want    API
		wantErr bool
	}{
		{"", APIAuto, false},
		{"auto", APIAuto, false},
		{"Sensor", APISensor, false},
		{" console ", APIConsole, false},
		{"management-console", APIConsole, false},
		{"cloud", APIAuto, true},
	}
	for _, tt := range tests {
		got, err := ParseAPI(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseAPI(%q) = %v, %v, want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && tt.in != "" && tt.in != "management-console" && got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
			t.Errorf("API.String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestElementError_Error(t *testing.T) {
	inner := errors.New("boom")
	tests := []struct {
		e    *ElementError
		want string
	}{
		{&ElementError{Index: 2, Offset: 40, Err: inner}, "alert 2 at offset 40: boom"},
		{&ElementError{Index: 3, Offset: 77, Field: "time", Err: inner}, "alert 3 at offset 77: field time: boom"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.e, inner) {
			t.Errorf("errors.Is(%v, inner) = false", tt.e)
		}
	}
}
