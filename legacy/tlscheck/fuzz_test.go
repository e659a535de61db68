package tlscheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/legacy/tlscheck/tlstest"
)

// FuzzCheck feeds arbitrary bytes as the certificate and key files: Check
// must not panic, and an error must name a file, stay on one line and
// leave the other fields unset.
func FuzzCheck(f *testing.F) {
	dir := f.TempDir()
	read := func(path string) []byte {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		return data
	}
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c, k := tlstest.Write(f, dir, "plain", tlstest.Options{NotAfter: until, IssuerNotAfter: until})
	f.Add(read(c), read(k))
	c, k = tlstest.Write(f, dir, "encrypted", tlstest.Options{NotAfter: until, Passphrase: passphrase})
	f.Add(read(c), read(k))
	c, k = tlstest.Write(f, dir, "pkcs8", tlstest.Options{NotAfter: until, PKCS8: true})
	f.Add(append(read(c), read(k)...), []byte(nil))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte{}, []byte("garbage"))

	// The files are rewritten in place: a directory per input would cost
	// twenty times what Check does. A worker runs one input at a time.
	work := f.TempDir()
	certFile := filepath.Join(work, "cert.pem")
	keyFile := filepath.Join(work, "key.pem")
	passFile := filepath.Join(work, "pass")
	if err := os.WriteFile(passFile, []byte(passphrase+"\n"), 0o600); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, cert, key []byte) {
		if err := os.WriteFile(certFile, cert, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, key, 0o600); err != nil {
			t.Fatal(err)
		}

		for _, r := range []Result{Check(certFile, keyFile, passFile), Check(certFile, "", ""), Check("", keyFile, passFile)} {
			if r.Err == "" {
				continue
			}
			if !strings.Contains(r.Err, work) {
				t.Errorf("Err = %q names no file", r.Err)
			}
			if strings.ContainsAny(r.Err, "\n\r") || strings.Contains(r.Err, passphrase) {
				t.Errorf("Err = %q: a line break or the passphrase", r.Err)
			}
			if r.Subject != "" || !r.NotAfter.IsZero() || r.KeyMismatch {
				t.Errorf("Check() = %+v: with Err set the other fields must be unset", r)
			}
		}
	})
}
