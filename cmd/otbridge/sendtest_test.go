package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otbridge/otbridge/modern/azuretest"
)

const (
	sendTestDCR    = "dcr-00112233445566778899aabbccddeeff"
	sendTestStream = "Custom-OTBridgeCommonSecurityLog"
	sendTestClient = "7b0c6d2e-1111-4222-8333-944455556666"
	sendTestSecret = "s3cr3t~Value.That-Must_Not.Leak"
)

// sendTestSetup writes a config whose modern destination talks to a fake
// Entra ID and a fake Logs Ingestion API, both over TLS trusted through the
// config's CA bundle, and returns the config path.
func sendTestSetup(t *testing.T, entra *azuretest.Entra, ingest *azuretest.Ingest, secret string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "inventory.yaml", `version: 1
appliances:
  - name: plant-a
    kind: sensor
    rules:
      - name: r1
        minimal_alert_level: Major
        actions: [{type: sentinel, host: 10.0.0.1, port: 514, timezone: UTC}]
`)
	if err := os.WriteFile(filepath.Join(dir, "client-secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "otbridge.yaml", fmt.Sprintf(`inventory: [inventory.yaml]
destinations:
  modern:
    - name: sentinel
      endpoint: %s
      dcr_immutable_id: %s
      stream: %s
      cloud: {name: custom, authority_host: %s, audience: https://monitor.azure.com}
      credential:
        type: client-secret
        tenant_id: %s
        client_id: %s
        client_secret_file: client-secret
      ca_bundle_file: %s
      retry: {max_attempts: 2, min_backoff: 10ms, max_backoff: 20ms}
routing:
  default: {mode: modern, modern: [sentinel]}
`, ingest.URL, sendTestDCR, sendTestStream, entra.AuthorityHost(), entra.TenantID(), sendTestClient, entra.CAFile()))
}

func TestSendTest(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		icfg     azuretest.IngestConfig
		wantCode int
		want     []string
		rows     int
	}{
		{
			name: "accepted", secret: sendTestSecret, wantCode: exitOK, rows: 1,
			want: []string{"token: obtained with client-secret credential", "send: accepted (HTTP 204)", `Activity == "otbridge test message"`},
		},
		{
			name: "wrong secret", secret: "not-the-secret", wantCode: exitFailure,
			want: []string{"token (client-secret): FAILED", "hint: the client secret is wrong"},
		},
		{
			name: "missing role", secret: sendTestSecret, wantCode: exitFailure,
			icfg: azuretest.IngestConfig{Authorized: func(string, string) bool { return false }},
			want: []string{"token: obtained", "send: FAILED", "403", "hint:", "Monitoring Metrics Publisher"},
		},
		{
			name: "unknown stream", secret: sendTestSecret, wantCode: exitFailure,
			icfg: azuretest.IngestConfig{Streams: map[string]map[string]azuretest.IngestSchema{sendTestDCR: {"Custom-Other": nil}}},
			want: []string{"send: FAILED", "404", "hint:", "stream"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := azuretest.NewEntra(t, azuretest.EntraConfig{})
			entra.AddClientSecret(sendTestClient, sendTestSecret)
			icfg := tt.icfg
			icfg.Validate = entra.Validate
			icfg.TLS = entra.TLSConfig("127.0.0.1")
			if icfg.Streams == nil {
				icfg.Streams = map[string]map[string]azuretest.IngestSchema{sendTestDCR: {sendTestStream: nil}}
			}
			ingest := azuretest.NewIngest(t, icfg)
			cfg := sendTestSetup(t, entra, ingest, tt.secret)

			code, out, errOut := runCLI(t, "", "send-test", "--config", cfg, "--destination", "sentinel")
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out+errOut, sendTestSecret) {
				t.Errorf("the client secret appears in the output")
			}
			rows := ingest.Rows()
			if len(rows) != tt.rows {
				t.Fatalf("fake API stored %d rows, want %d", len(rows), tt.rows)
			}
			if tt.rows == 1 && rows[0]["Activity"] != "otbridge test message" {
				t.Errorf("stored row = %v", rows[0])
			}
			if ingest.NonArrayBodies() != 0 {
				t.Error("send-test sent a body that is not a JSON array")
			}
		})
	}
}
