package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkPlan is the whole `otbridge plan` on 1,000 rules (100 sensors
// with ten rules each) and 100,000 sample CEF alerts over a week: config
// and inventory loading, decoding, routing, row mapping, batching and
// gzip for the volumes, and the JSON report.
func BenchmarkPlan(b *testing.B) {
	dir := b.TempDir()
	writeLargeFleet(b, dir, 100, 10, 100000)
	cfg := filepath.Join(dir, "config.yaml")

	b.ResetTimer()
	for b.Loop() {
		a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, settings: newSettings(),
			now: func() time.Time { return planNow }}
		if code := a.execute(b.Context(), []string{"plan", "--config", cfg, "--format", "json"}); code != exitOK {
			b.Fatalf("exit %d", code)
		}
	}
}

// writeLargeFleet writes a config, an inventory of sensors×rules rules and
// a log of alerts sample CEF lines to dir.
func writeLargeFleet(b *testing.B, dir string, sensors, rules, alerts int) {
	levels := []string{"Warning", "Minor", "Major", "Critical"}
	var inv strings.Builder
	inv.WriteString("version: 1\nappliances:\n")
	for s := range sensors {
		fmt.Fprintf(&inv, "  - name: sensor-%03d\n    kind: sensor\n    version: \"24.1.3\"\n    rules:\n", s)
		for r := range rules {
			fmt.Fprintf(&inv, "      - name: rule-%d\n        minimal_alert_level: %s\n", r, levels[r%4])
			switch r % 3 {
			case 1:
				inv.WriteString("        protocols: [Modbus, DNP3]\n")
			case 2:
				inv.WriteString("        engines: [Malware, Anomaly]\n")
			}
			inv.WriteString("        actions:\n          - type: sentinel\n            host: 10.0.0.1\n            port: 514\n")
		}
	}
	must(b, os.WriteFile(filepath.Join(dir, "inventory.yaml"), []byte(inv.String()), 0o644))
	must(b, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(`inventory: [inventory.yaml]
destinations:
  legacy:
    - name: proxy
      address: 127.0.0.1:514
  modern:
    - name: sentinel
      endpoint: https://dce.westeurope-1.ingest.monitor.azure.com
      dcr_immutable_id: dcr-00000000000000000000000000000001
      stream: Custom-OTBridgeCEF
      credential:
        type: managed-identity
routing:
  default:
    mode: dual
    legacy: [proxy]
    modern: [sentinel]
plan:
  alerts: [alerts.log]
`), 0o644))

	engines := []string{"Protocol Violation", "Policy Violation", "Malware", "Anomaly", "Operational"}
	protocols := []string{"Modbus", "DNP3", "S7", "BACnet", "SMB"}
	sev := map[string]int{"Warning": 1, "Minor": 4, "Major": 8, "Critical": 10}
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	var log strings.Builder
	for i := range alerts {
		t := start.Add(time.Duration(i) * 7 * 24 * time.Hour / time.Duration(alerts))
		sensor := fmt.Sprintf("sensor-%03d", i%sensors)
		level := levels[i%4]
		fmt.Fprintf(&log, "<9>%s %s CEF:0|Microsoft Defender for IoT|%s|24.1.3|Microsoft Defender for IoT Alert|Unauthorized PLC Programming|%d|"+
			"msg=PLC 10.20.1.50 was programmed by 10.20.1.15, which is not an authorized engineering station. protocol=%s severity=%s type=%s "+
			"UUID=%d-%d start=%s src_ip=10.20.1.15 src_mac=00:1b:1b:12:34:56 dst_ip=10.20.1.50 dst_mac=00:1b:1b:ab:cd:ef cat=Unauthorized Communication Behavior\n",
			t.Format(time.Stamp), sensor, sensor, sev[level], protocols[i%5], level, engines[i%5], i%7+1, t.UnixMilli(), t.Format("Jan 02 2006 15:04:05"))
	}
	must(b, os.WriteFile(filepath.Join(dir, "alerts.log"), []byte(log.String()), 0o644))
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
