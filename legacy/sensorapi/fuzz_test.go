package sensorapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDecodeBytes(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`[]`, `null`, `{}`, `[{"id":1}`, `[{"id":1}] x`,
		`[{"time":"1e3"},{"time":-1},{"time":1e300},{"time":"NaN"}]`,
		`[{"id":1.5},{"id":"x","handled":"maybe"},{"id":2,"remediationSteps":[[1]]}]`,
		`[{"id":1,"sourceDevice":"10.0.0.1","sourceDeviceAddress":"zz"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var d Decoder
		res, err := d.DecodeBytes(doc)

		// Every array that encoding/json accepts must decode without error,
		// and every element must show up as an alert or as skipped.
		var elems []json.RawMessage
		if json.Unmarshal(doc, &elems) == nil && elems != nil {
			if err != nil {
				t.Fatalf("DecodeBytes() error = %v for a valid array", err)
			}
			if len(res.Alerts)+len(res.Skipped) != len(elems) {
				t.Fatalf("%d alerts + %d skipped, want %d elements", len(res.Alerts), len(res.Skipped), len(elems))
			}
		}
		if res == nil {
			return
		}

		last := -1
		for _, e := range res.Skipped {
			if e.Index <= last || e.Offset < 0 || e.Offset > int64(len(doc)) || e.Err == nil {
				t.Fatalf("bad skipped entry %+v after index %d", e, last)
			}
			last = e.Index
		}
		for _, e := range res.Warnings {
			if e.Offset < 0 || e.Offset > int64(len(doc)) || e.Field == "" {
				t.Fatalf("bad warning %+v", e)
			}
		}
		for _, a := range res.Alerts {
			if a.Origin != res.Origin {
				t.Fatalf("alert origin %q, result origin %q", a.Origin, res.Origin)
			}
			// The alert must be writable downstream.
			if _, err := json.Marshal(a); err != nil {
				t.Fatalf("json.Marshal(alert) error = %v for %+v", err, a)
			}
		}
	})
}
