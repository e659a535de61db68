package modern

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/otbridge/otbridge/bridge"
)

var batchTestTitles = []string{
	"Unauthorized PLC Programming", "Unpermitted Modbus function code",
	"Suspicion of Malicious Activity (Stuxnet)", "New Activity Detected - CIP Class",
	"Illegal MODBUS Operation (Function Code Zero)", "Excessive Number of Sessions",
	"Internet Access Detected",
}

var batchTestProtocols = []string{"Modbus", "CIP", "S7", "DNP3", "HTTP", "BACnet"}

// batchTestRow is a CommonSecurityLog row of a Defender for IoT alert,
// about 1 KB, as the compatible profile writes it.
func batchTestRow(r *rand.Rand, i int) []byte {
	ts := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 137 * time.Millisecond)
	src := fmt.Sprintf("10.%d.%d.%d", r.IntN(255), r.IntN(255), r.IntN(255))
	dst := fmt.Sprintf("192.168.%d.%d", r.IntN(255), r.IntN(255))
	smac := fmt.Sprintf("00:1b:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
	title := batchTestTitles[r.IntN(len(batchTestTitles))]
	proto := batchTestProtocols[r.IntN(len(batchTestProtocols))]
	uuid := fmt.Sprintf("%d-%d", r.IntN(9)+1, ts.UnixMilli())
	sensor := fmt.Sprintf("sensor-plant-%d", r.IntN(20))
	row, _ := json.Marshal(map[string]any{
		"TimeGenerated":       ts.Format(time.RFC3339Nano),
		"DeviceVendor":        "Microsoft",
		"DeviceProduct":       sensor,
		"DeviceVersion":       "24.1.3",
		"DeviceEventClassID":  "Microsoft Defender for IoT Alert",
		"Activity":            title,
		"LogSeverity":         "8",
		"Message":             fmt.Sprintf("%s: %s sent a %s request to %s outside the learned baseline (alert %d)", title, src, proto, dst, r.IntN(100000)),
		"DeviceEventCategory": "Abnormal Communication Behavior",
		"Computer":            "otbridge-01",
		"AdditionalExtensions": fmt.Sprintf("msg=%s;protocol=%s;severity=Major;type=Policy Violation;UUID=%s;start=%s;src_ip=%s;src_mac=%s;dst_ip=%s;dst_mac=00:0c:29:%02x:%02x:%02x;cat=Abnormal Communication Behavior",
			title, proto, uuid, ts.Format(time.RFC3339), src, smac, dst, r.IntN(256), r.IntN(256), r.IntN(256)),
		"SourceIP":                 src,
		"DestinationIP":            dst,
		"SourceMACAddress":         smac,
		"Protocol":                 proto,
		"DeviceExternalID":         uuid,
		"DeviceCustomString5":      sensor + "/" + uuid,
		"DeviceCustomString5Label": AlertKeyLabel,
		"DeviceCustomString6":      "modern",
		"DeviceCustomString6Label": PathLabel,
	})
	return row
}

// batchTestRandomRow is a row of about n bytes: random hex when noisy (it
// compresses about 2x), a repeated phrase otherwise.
func batchTestRandomRow(r *rand.Rand, n int, noisy bool) []byte {
	var pad []byte
	if noisy {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], r.Uint64())
		raw := make([]byte, n/2+1)
		rand.NewChaCha8(seed).Read(raw)
		pad = hex.AppendEncode(nil, raw)
	} else {
		pad = bytes.Repeat([]byte("Unauthorized PLC Programming "), n/29+1)
	}
	row, _ := json.Marshal(map[string]any{"n": r.Int(), "pad": string(pad[:n])})
	return row
}

// batchTestRows returns 4096 rows of batchTestRow, made once.
var batchTestRows = sync.OnceValue(func() [][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	rows := make([][]byte, 4096)
	for i := range rows {
		rows[i] = batchTestRow(r, i)
	}
	return rows
})

func batchTestConfig() BatchConfig { return Config{}.WithDefaults().Batch }

// batchTestCheck checks a batch against the limits and returns its rows.
func batchTestCheck(t *testing.T, cfg BatchConfig, b *Batch) []json.RawMessage {
	t.Helper()
	if len(b.Body) > cfg.MaxBytes {
		t.Fatalf("batch of %d rows is %d bytes on the wire, over %d", b.Len(), len(b.Body), cfg.MaxBytes)
	}
	if b.RawBytes > cfg.MaxUncompressedBytes {
		t.Fatalf("batch of %d rows is %d bytes uncompressed, over %d", b.Len(), b.RawBytes, cfg.MaxUncompressedBytes)
	}
	if cfg.MaxRecords > 0 && b.Len() > cfg.MaxRecords {
		t.Fatalf("batch of %d rows, over %d", b.Len(), cfg.MaxRecords)
	}
	if b.Gzip != (cfg.Compression == "gzip") {
		t.Fatalf("batch gzip %v with compression %s", b.Gzip, cfg.Compression)
	}
	raw := b.Body
	if b.Gzip {
		zr, err := gzip.NewReader(bytes.NewReader(b.Body))
		if err != nil {
			t.Fatalf("body is not gzip: %v", err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(zr); err != nil {
			t.Fatalf("body is not gzip: %v", err)
		}
		raw = buf.Bytes()
	}
	if len(raw) != b.RawBytes {
		t.Fatalf("body is %d bytes uncompressed, batch says %d", len(raw), b.RawBytes)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		t.Fatalf("body is not a JSON array: %v", err)
	}
	if len(rows) != b.Len() {
		t.Fatalf("body has %d rows, batch says %d", len(rows), b.Len())
	}
	return rows
}

// batchTestPool is rows of many sizes, compressible and not, made once.
var batchTestPool = sync.OnceValue(func() [][]byte {
	r := rand.New(rand.NewPCG(4, 4))
	var rows [][]byte
	for i := range 256 {
		size := r.IntN(64)
		switch i % 8 {
		case 0:
			size = r.IntN(64 << 10)
		case 1, 2:
			size = r.IntN(8 << 10)
		case 3, 4, 5:
			size = r.IntN(2 << 10)
		}
		rows = append(rows, batchTestRandomRow(r, size, i%2 == 0))
	}
	return append(rows, batchTestRows()[:256]...)
})

func TestBatcher_Add_limits(t *testing.T) {
	// Rows from tiny to larger than any limit, compressible and not, under
	// random limits: every batch is within the limits, every row lands in
	// exactly one batch in order, or is refused because it cannot fit
	// alone.
	pool := batchTestPool()
	seeds := uint64(32)
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		r := rand.New(rand.NewPCG(seed, 7))
		cfg := batchTestConfig()
		cfg.MaxBytes = 4096 + r.IntN(64<<10)
		if seed%4 == 1 {
			cfg.MaxBytes = 4096 + r.IntN(APILimitBytes-4096+1)
		}
		// From no room for compression to room for 12x.
		cfg.MaxUncompressedBytes = cfg.MaxBytes * (1 + r.IntN(12))
		if seed%3 == 0 {
			cfg.MaxRecords = 1 + r.IntN(50)
		}
		if seed%5 == 0 {
			cfg.Compression = "none"
		}
		t.Run(fmt.Sprintf("%d-%s-%d-%d-%d", seed, cfg.Compression, cfg.MaxBytes, cfg.MaxUncompressedBytes, cfg.MaxRecords), func(t *testing.T) {
			bt, err := NewBatcher(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			rows := map[int][]byte{}
			var got []int
			batches := 0
			collect := func(bs []*Batch) {
				for _, b := range bs {
					batches++
					for i, row := range batchTestCheck(t, cfg, b) {
						id := b.IDs[i]
						if !bytes.Equal(row, rows[id]) {
							t.Fatalf("row %d changed in its batch", id)
						}
						got = append(got, id)
					}
				}
			}
			var refused []int
			for id := 0; batches < 4 && id < 50000; id++ {
				row := pool[r.IntN(len(pool))]
				if r.IntN(200) == 0 {
					// Larger than a limit, maybe fitting compressed.
					row = batchTestRandomRow(r, cfg.MaxBytes+r.IntN(cfg.MaxUncompressedBytes), r.IntN(2) == 0)
				}
				rows[id] = row
				ready, err := bt.Add(id, row)
				collect(ready)
				if err != nil {
					var re *RowError
					if !errors.As(err, &re) || re.Reason != ReasonRowTooLarge {
						t.Fatalf("row %d: %v", id, err)
					}
					alone := len(row) + 2
					if alone <= cfg.MaxUncompressedBytes && cfg.Compression == "gzip" {
						if body, _ := gzipBytes(fmt.Appendf(nil, "[%s]", row)); len(body) <= cfg.MaxBytes {
							t.Fatalf("row %d of %d bytes refused though it compresses to %d", id, len(row), len(body))
						}
					} else if alone <= min(cfg.MaxUncompressedBytes, cfg.MaxBytes) {
						t.Fatalf("row %d of %d bytes refused though it fits", id, len(row))
					}
					refused = append(refused, id)
				}
			}
			collect(bt.Flush())

			if len(got)+len(refused) != len(rows) {
				t.Fatalf("%d rows batched and %d refused, of %d", len(got), len(refused), len(rows))
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Fatalf("rows out of order: %d after %d", got[i], got[i-1])
				}
			}
		})
	}
}

func TestBatcher_Add_fillsBatches(t *testing.T) {
	// CEF-like rows compress about 10x: batches stop at the wire limit or
	// at the uncompressed limit, not at a fraction of them.
	for _, uncompressed := range []int{10 << 20, 40 << 20} {
		cfg := batchTestConfig()
		cfg.MaxUncompressedBytes = uncompressed
		bt, err := NewBatcher(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows := batchTestRows()
		var batches []*Batch
		for i := 0; len(batches) < 2; i++ {
			ready, err := bt.Add(i, rows[i%len(rows)])
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, ready...)
		}
		for _, b := range batches {
			batchTestCheck(t, cfg, b)
			wireFill := float64(len(b.Body)) / float64(cfg.MaxBytes)
			rawFill := float64(b.RawBytes) / float64(cfg.MaxUncompressedBytes)
			t.Logf("max uncompressed %d: %d rows, %d bytes on the wire (%.1f%%), %d uncompressed (%.1f%%)",
				uncompressed, b.Len(), len(b.Body), 100*wireFill, b.RawBytes, 100*rawFill)
			if wireFill < 0.99 && rawFill < 0.99 {
				t.Errorf("batch filled %.1f%% of the wire limit and %.1f%% of the uncompressed limit", 100*wireFill, 100*rawFill)
			}
		}
	}
}

func TestBatcher_Add_refuses(t *testing.T) {
	cfg := batchTestConfig()
	cfg.MaxUncompressedBytes = 4 << 20
	r := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name       string
		row        []byte
		reason     string
		compressed bool
	}{
		{"empty", nil, ReasonNotObject, false},
		{"array", []byte(`[{"a":1}]`), ReasonNotObject, false},
		{"string", []byte(`"a"`), ReasonNotObject, false},
		{"padded", []byte(` {"a":1}`), ReasonNotObject, false},
		{"over the uncompressed limit", batchTestRandomRow(r, 5<<20, false), ReasonRowTooLarge, false},
		{"incompressible and over the wire limit", batchTestRandomRow(r, 3<<20, true), ReasonRowTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bt, err := NewBatcher(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := bt.Add(0, []byte(`{"a":1}`)); err != nil {
				t.Fatal(err)
			}
			ready, err := bt.Add(1, tt.row)
			var re *RowError
			if !errors.As(err, &re) || re.Reason != tt.reason {
				t.Fatalf("Add = %v, want a RowError %s", err, tt.reason)
			}
			if (re.Compressed > cfg.MaxBytes) != tt.compressed {
				t.Errorf("RowError %+v: compressed size measured %v, want %v", re, re.Compressed > 0, tt.compressed)
			}
			// The open batch is left as it was.
			ready = append(ready, bt.Flush()...)
			if len(ready) != 1 || ready[0].Len() != 1 || ready[0].IDs[0] != 0 {
				t.Errorf("batches after a refused row: %d, want the open one of row 0", len(ready))
			}
		})
	}
}

func TestBatcher_Add_rowAloneCompressed(t *testing.T) {
	// A 2 MiB row that compresses well is over the wire limit as it is,
	// but fits alone once compressed: it gets a batch of its own, and the
	// open batch is closed before it.
	cfg := batchTestConfig()
	r := rand.New(rand.NewPCG(5, 6))
	bt, err := NewBatcher(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bt.Add(0, batchTestRow(r, 0)); err != nil {
		t.Fatal(err)
	}
	big := batchTestRandomRow(r, 2<<20, false)
	ready, err := bt.Add(1, big)
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 2 || ready[0].IDs[0] != 0 || ready[1].IDs[0] != 1 || ready[1].Len() != 1 {
		t.Fatalf("got %d batches, want the open one then the big row alone", len(ready))
	}
	rows := batchTestCheck(t, cfg, ready[1])
	if !bytes.Equal(rows[0], big) {
		t.Error("big row changed")
	}
	if bt.Len() != 0 {
		t.Errorf("%d rows still open", bt.Len())
	}
}

func TestBatcher_Add_maxRecords(t *testing.T) {
	cfg := batchTestConfig()
	cfg.MaxRecords = 3
	bt, err := NewBatcher(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for i := range 8 {
		ready, err := bt.Add(i, []byte(`{"i":1}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range ready {
			sizes = append(sizes, b.Len())
		}
	}
	for _, b := range bt.Flush() {
		sizes = append(sizes, b.Len())
	}
	if fmt.Sprint(sizes) != "[3 3 2]" {
		t.Errorf("batch sizes %v, want [3 3 2]", sizes)
	}
}

func TestBatcher_Due(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cfg := batchTestConfig()
	cfg.FlushDelay = 2 * time.Second
	bt, err := NewBatcher(cfg, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	if bt.Due() {
		t.Error("empty batcher is due")
	}
	if _, ok := bt.Deadline(); ok {
		t.Error("empty batcher has a deadline")
	}
	if bt.Flush() != nil {
		t.Error("empty batcher flushed a batch")
	}

	bt.Add(0, []byte(`{"a":1}`))
	start := now
	now = now.Add(time.Second)
	bt.Add(1, []byte(`{"a":2}`))
	if d, ok := bt.Deadline(); !ok || !d.Equal(start.Add(2*time.Second)) {
		t.Errorf("Deadline = %v, %v; want the first row's time plus the flush delay", d, ok)
	}
	now = start.Add(2*time.Second - time.Nanosecond)
	if bt.Due() {
		t.Error("due before the oldest row waited the flush delay")
	}
	now = start.Add(2 * time.Second)
	if !bt.Due() {
		t.Error("not due once the oldest row waited the flush delay")
	}
	ready := bt.Flush()
	if len(ready) != 1 || ready[0].Len() != 2 {
		t.Fatalf("Flush returned %d batches, want one of 2 rows", len(ready))
	}
	if bt.Due() {
		t.Error("due after Flush")
	}

	// The next batch's clock starts at its own first row.
	now = now.Add(time.Minute)
	bt.Add(2, []byte(`{"a":3}`))
	if bt.Due() {
		t.Error("new batch due at once")
	}
}

func TestBatch_split(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, compression := range []string{"gzip", "none"} {
		for _, n := range []int{2, 3, 10, 101} {
			cfg := batchTestConfig()
			cfg.Compression = compression
			bt, err := NewBatcher(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			var want [][]byte
			for i := range n {
				row := batchTestRow(r, i)
				want = append(want, row)
				bt.Add(100+i, row)
			}
			b := bt.Flush()[0]
			left, right, err := b.split()
			if err != nil {
				t.Fatalf("%s %d: %v", compression, n, err)
			}
			if left.Len() != n/2 || right.Len() != n-n/2 {
				t.Fatalf("%s %d: halves of %d and %d rows", compression, n, left.Len(), right.Len())
			}
			got := append(batchTestCheck(t, cfg, left), batchTestCheck(t, cfg, right)...)
			ids := append(append([]int(nil), left.IDs...), right.IDs...)
			for i := range n {
				if !bytes.Equal(got[i], want[i]) || ids[i] != 100+i {
					t.Fatalf("%s %d: row %d changed in the split", compression, n, i)
				}
			}
			// Halves split again, down to single rows.
			if right.Len() >= 2 {
				if _, _, err := right.split(); err != nil {
					t.Errorf("%s %d: split the right half: %v", compression, n, err)
				}
			}
		}
	}
	one := &Batch{Body: []byte(`[{}]`), IDs: []int{1}, RawBytes: 4, ends: []int{3}}
	if _, _, err := one.split(); err == nil {
		t.Error("split a single row")
	}
}

func TestBatcher_close_splitsOversizedBody(t *testing.T) {
	// Were the worst-case bound wrong, a closed batch over the wire limit
	// would be split, not sent.
	cfg := batchTestConfig()
	cfg.MaxBytes = 8192
	bt, err := NewBatcher(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	bt.bound = func(int) int { return 0 }
	r := rand.New(rand.NewPCG(10, 11))
	for i := range 100 {
		if _, err := bt.Add(i, batchTestRandomRow(r, 500, true)); err != nil {
			t.Fatal(err)
		}
	}
	batches := bt.Flush()
	if len(batches) < 2 {
		t.Fatalf("got %d batches, want the oversized one split", len(batches))
	}
	n := 0
	for _, b := range batches {
		batchTestCheck(t, cfg, b)
		n += b.Len()
	}
	if n != 100 {
		t.Errorf("%d rows in the split batches, want 100", n)
	}
}

func TestNewBatcher_refuses(t *testing.T) {
	for _, mod := range []func(*BatchConfig){
		func(c *BatchConfig) { c.MaxBytes = APILimitBytes + 1 },
		func(c *BatchConfig) { c.MaxUncompressedBytes = c.MaxBytes - 1 },
		func(c *BatchConfig) { c.Compression = "zstd" },
	} {
		cfg := batchTestConfig()
		mod(&cfg)
		if _, err := NewBatcher(cfg, nil); err == nil {
			t.Errorf("NewBatcher(%+v) succeeded", cfg)
		}
	}
}

// BenchmarkBatcher packs ~1 KB CommonSecurityLog rows into gzip batches
// with the default limits, as Send does after mapping.
func BenchmarkBatcher(b *testing.B) {
	rows := batchTestRows()
	size := 0
	for _, row := range rows {
		size += len(row)
	}
	for _, compression := range []string{"gzip", "none"} {
		b.Run(compression, func(b *testing.B) {
			cfg := batchTestConfig()
			cfg.Compression = compression
			bt, err := NewBatcher(cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			var wire, raw, batches int
			b.SetBytes(int64(size / len(rows)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ready, err := bt.Add(i, rows[i%len(rows)])
				if err != nil {
					b.Fatal(err)
				}
				for _, bb := range ready {
					wire += len(bb.Body)
					raw += bb.RawBytes
					batches++
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			if batches > 0 {
				b.ReportMetric(float64(raw)/float64(wire), "ratio")
				b.ReportMetric(float64(wire)/float64(batches), "wireB/batch")
			}
		})
	}

	// Mapping with the compatible profile, then batching: what Send does
	// per alert before the network.
	b.Run("mapped-gzip", func(b *testing.B) {
		m, err := NewRowMapper(Config{Profile: ProfileCompatible})
		if err != nil {
			b.Skipf("row mapper: %v", err)
		}
		alerts := batchTestAlerts(4096)
		bt, err := NewBatcher(batchTestConfig(), nil)
		if err != nil {
			b.Fatal(err)
		}
		var row []byte
		var bytes int
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			row, _, err = m.AppendRow(row[:0], alerts[i%len(alerts)], bridge.PathModern)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(row)
			if _, err := bt.Add(i, row); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(bytes)/float64(b.N), "bytes/row")
	})
}

// batchTestAlerts are Defender for IoT alerts as a CEF listener decodes
// them.
func batchTestAlerts(n int) []*bridge.Alert {
	r := rand.New(rand.NewPCG(2, 2))
	alerts := make([]*bridge.Alert, n)
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range alerts {
		ts := t0.Add(time.Duration(i) * 137 * time.Millisecond)
		title := batchTestTitles[r.IntN(len(batchTestTitles))]
		src := fmt.Sprintf("10.%d.%d.%d", r.IntN(255), r.IntN(255), r.IntN(255))
		dst := fmt.Sprintf("192.168.%d.%d", r.IntN(255), r.IntN(255))
		proto := batchTestProtocols[r.IntN(len(batchTestProtocols))]
		alerts[i] = &bridge.Alert{
			Origin:        bridge.OriginSyslogCEF,
			Vendor:        "Microsoft Defender for IoT",
			SignatureID:   "Microsoft Defender for IoT Alert",
			Sensor:        fmt.Sprintf("sensor-plant-%d", r.IntN(20)),
			SensorVersion: "24.1.3",
			UUID:          fmt.Sprintf("%d-%d", r.IntN(9)+1, ts.UnixMilli()),
			DetectedAt:    ts,
			ReceivedAt:    ts.Add(time.Second),
			Title:         title,
			Message:       fmt.Sprintf("%s: %s sent a %s request to %s outside the learned baseline (alert %d)", title, src, proto, dst, r.IntN(100000)),
			Severity:      bridge.Severities[r.IntN(len(bridge.Severities))],
			Engine:        bridge.Engines[r.IntN(len(bridge.Engines))],
			Protocol:      proto,
			Category:      "Abnormal Communication Behavior",
			Source:        bridge.Endpoint{IP: src, MAC: fmt.Sprintf("00:1b:%02x:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))},
			Destination:   bridge.Endpoint{IP: dst, MAC: fmt.Sprintf("00:0c:29:%02x:%02x:%02x", r.IntN(256), r.IntN(256), r.IntN(256))},
		}
	}
	return alerts
}
