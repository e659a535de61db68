package tlscheck

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otbridge/otbridge/legacy/tlscheck/tlstest"
)

var (
	validUntil    = time.Date(2031, 6, 30, 12, 0, 0, 0, time.UTC)
	expiredOn     = time.Date(2024, 1, 15, 8, 30, 0, 0, time.UTC)
	expiringOn    = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	issuerExpires = time.Date(2029, 2, 28, 23, 59, 59, 0, time.UTC)
)

const passphrase = "correct horse battery staple"

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readTestFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pair writes a certificate and key valid until validUntil, with opts on
// top.
func pair(t *testing.T, dir string, opts tlstest.Options) (cert, key string) {
	t.Helper()
	if opts.NotAfter.IsZero() {
		opts.NotAfter = validUntil
	}
	return tlstest.Write(t, dir, "proxy", opts)
}

func TestCheck(t *testing.T) {
	type files struct{ cert, key, pass string }
	withPair := func(opts tlstest.Options) func(*testing.T, string) files {
		return func(t *testing.T, dir string) files {
			c, k := pair(t, dir, opts)
			return files{c, k, ""}
		}
	}
	// withKeyFile: a valid certificate, and a key file holding data.
	withKeyFile := func(name string, data []byte) func(*testing.T, string) files {
		return func(t *testing.T, dir string) files {
			c, _ := pair(t, dir, tlstest.Options{})
			return files{c, writeFile(t, filepath.Join(dir, name), data), ""}
		}
	}
	tests := []struct {
		name  string
		files func(t *testing.T, dir string) files
		// want is the Result expected when errHas is empty.
		want Result
		// errHas are the parts Err must hold; CERT, KEY and PASS stand
		// for the paths of the files.
		errHas []string
	}{
		{
			name:  "valid ECDSA pair",
			files: withPair(tlstest.Options{CommonName: "proxy.example.net"}),
			want:  Result{Subject: "proxy.example.net", NotAfter: validUntil},
		},
		{
			name: "valid RSA PKCS#1 pair",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{KeyType: tlstest.RSA})
				if !bytes.Contains(readTestFile(t, k), []byte("BEGIN RSA PRIVATE KEY")) {
					t.Fatal("tlstest wrote no PKCS#1 key")
				}
				return files{c, k, ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name:  "valid PKCS#8 key",
			files: withPair(tlstest.Options{PKCS8: true}),
			want:  Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name:  "expired",
			files: withPair(tlstest.Options{NotAfter: expiredOn}),
			want:  Result{Subject: "proxy", NotAfter: expiredOn},
		},
		{
			name:  "expiring",
			files: withPair(tlstest.Options{NotAfter: expiringOn}),
			want:  Result{Subject: "proxy", NotAfter: expiringOn},
		},
		{
			name:  "mismatched key",
			files: withPair(tlstest.Options{MismatchedKey: true}),
			want:  Result{Subject: "proxy", NotAfter: validUntil, KeyMismatch: true},
		},
		{
			name: "RSA key for an ECDSA certificate",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				_, k := tlstest.Write(t, dir, "other", tlstest.Options{KeyType: tlstest.RSA})
				return files{c, k, ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil, KeyMismatch: true},
		},
		{
			name: "certificate without key",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				return files{c, "", ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "key without certificate",
			files: func(t *testing.T, dir string) files {
				_, k := pair(t, dir, tlstest.Options{})
				return files{"", k, ""}
			},
			want: Result{},
		},
		{
			name:  "nothing named",
			files: func(t *testing.T, dir string) files { return files{} },
			want:  Result{},
		},
		{
			name:  "chain: the issuer expires first",
			files: withPair(tlstest.Options{IssuerNotAfter: issuerExpires}),
			want:  Result{Subject: "proxy", NotAfter: issuerExpires},
		},
		{
			name:  "chain: the leaf expires first",
			files: withPair(tlstest.Options{NotAfter: expiringOn, IssuerNotAfter: issuerExpires}),
			want:  Result{Subject: "proxy", NotAfter: expiringOn},
		},
		{
			name: "CA bundle",
			files: func(t *testing.T, dir string) files {
				a, _ := tlstest.Write(t, dir, "ca-one", tlstest.Options{NotAfter: validUntil})
				b, _ := tlstest.Write(t, dir, "ca-two", tlstest.Options{NotAfter: expiringOn})
				bundle := append(readTestFile(t, a), readTestFile(t, b)...)
				return files{writeFile(t, filepath.Join(dir, "bundle.pem"), bundle), "", ""}
			},
			want: Result{Subject: "ca-one", NotAfter: expiringOn},
		},
		{
			name: "certificate file holds its key too",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{})
				both := append(readTestFile(t, c), readTestFile(t, k)...)
				return files{writeFile(t, filepath.Join(dir, "both.pem"), both), "", ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "certificate file holds another key",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{MismatchedKey: true})
				both := append(readTestFile(t, k), readTestFile(t, c)...)
				return files{writeFile(t, filepath.Join(dir, "both.pem"), both), "", ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil, KeyMismatch: true},
		},
		{
			name: "one file as certificate and key",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{})
				both := writeFile(t, filepath.Join(dir, "both.pem"), append(readTestFile(t, c), readTestFile(t, k)...))
				return files{both, both, ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "encrypted key, right passphrase",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{Passphrase: passphrase})
				if !bytes.Contains(readTestFile(t, k), []byte("Proc-Type: 4,ENCRYPTED")) {
					t.Fatal("tlstest wrote no encrypted key")
				}
				p := writeFile(t, filepath.Join(dir, "pass"), []byte(passphrase+"\n"))
				return files{c, k, p}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "encrypted RSA key, passphrase with CRLF",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{KeyType: tlstest.RSA, Passphrase: passphrase})
				p := writeFile(t, filepath.Join(dir, "pass"), []byte(passphrase+"\r\n"))
				return files{c, k, p}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "encrypted key, wrong passphrase",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{Passphrase: passphrase})
				p := writeFile(t, filepath.Join(dir, "pass"), []byte("Tr0ub4dor&3\n"))
				return files{c, k, p}
			},
			errHas: []string{"key KEY: the passphrase in PASS does not decrypt the key"},
		},
		{
			name:   "encrypted key, no passphrase file named",
			files:  withPair(tlstest.Options{Passphrase: passphrase}),
			errHas: []string{"key KEY: the private key is encrypted", "passphrase_file"},
		},
		{
			name: "encrypted key, passphrase file missing",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{Passphrase: passphrase})
				return files{c, k, filepath.Join(dir, "pass")}
			},
			errHas: []string{"open PASS: no such file", "passphrase"},
		},
		{
			name: "encrypted key, passphrase file only a line break",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{Passphrase: passphrase})
				return files{c, k, writeFile(t, filepath.Join(dir, "pass"), []byte("\n"))}
			},
			errHas: []string{"read PASS: holds only a line break"},
		},
		{
			name: "plain key with a passphrase file that is not there",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{})
				return files{c, k, filepath.Join(dir, "pass")}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
		{
			name: "encrypted PKCS#8 key",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				block := make([]byte, 200)
				_, _ = rand.Read(block)
				k := writeFile(t, filepath.Join(dir, "enc.key"), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: block}))
				return files{c, k, writeFile(t, filepath.Join(dir, "pass"), []byte(passphrase))}
			},
			errHas: []string{"key KEY: encrypted PKCS#8 keys", "-traditional"},
		},
		{
			name: "missing certificate",
			files: func(t *testing.T, dir string) files {
				return files{filepath.Join(dir, "proxy.crt"), "", ""}
			},
			errHas: []string{"open CERT: no such file: copy the certificate", "to this path"},
		},
		{
			name: "missing key",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				return files{c, filepath.Join(dir, "nope.key"), ""}
			},
			errHas: []string{"open KEY: no such file: copy the private key"},
		},
		{
			name: "certificate is a directory",
			files: func(t *testing.T, dir string) files {
				return files{dir, "", ""}
			},
			errHas: []string{"read CERT: is a directory"},
		},
		{
			name: "empty certificate",
			files: func(t *testing.T, dir string) files {
				return files{writeFile(t, filepath.Join(dir, "empty.crt"), nil), "", ""}
			},
			errHas: []string{"read CERT: file is empty: put the certificate in it"},
		},
		{
			name:   "empty key",
			files:  withKeyFile("empty.key", nil),
			errHas: []string{"read KEY: file is empty: put the private key in it"},
		},
		{
			name: "garbage certificate",
			files: func(t *testing.T, dir string) files {
				return files{writeFile(t, filepath.Join(dir, "junk.crt"), []byte("hello, this is not a certificate\n")), "", ""}
			},
			errHas: []string{"certificate CERT: not a PEM file"},
		},
		{
			name:   "garbage key",
			files:  withKeyFile("junk.key", []byte("password=hunter2\n")),
			errHas: []string{"key KEY: not a PEM file"},
		},
		{
			name: "damaged certificate block",
			files: func(t *testing.T, dir string) files {
				bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER at all")})
				return files{writeFile(t, filepath.Join(dir, "bad.crt"), bad), "", ""}
			},
			errHas: []string{"certificate CERT: certificate 1 in the file cannot be parsed"},
		},
		{
			name:   "damaged key block",
			files:  withKeyFile("bad.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("not DER at all")})),
			errHas: []string{"key KEY: cannot parse the private key"},
		},
		{
			name: "key file given as the certificate",
			files: func(t *testing.T, dir string) files {
				_, k := pair(t, dir, tlstest.Options{})
				return files{k, "", ""}
			},
			errHas: []string{"certificate CERT: holds a private key but no certificate"},
		},
		{
			name: "certificate given as the key",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				return files{c, c, ""}
			},
			errHas: []string{"key KEY: holds no private key"},
		},
		{
			name: "PEM of another kind",
			files: func(t *testing.T, dir string) files {
				csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{0x30, 0x00}})
				return files{writeFile(t, filepath.Join(dir, "proxy.csr"), csr), "", ""}
			},
			errHas: []string{"certificate CERT: holds no certificate"},
		},
		{
			name: "DER certificate",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				block, _ := pem.Decode(readTestFile(t, c))
				return files{writeFile(t, filepath.Join(dir, "proxy.der"), block.Bytes), "", ""}
			},
			errHas: []string{"certificate CERT: is in DER form", "openssl x509 -inform der"},
		},
		{
			name: "DER key",
			files: func(t *testing.T, dir string) files {
				c, k := pair(t, dir, tlstest.Options{})
				block, _ := pem.Decode(readTestFile(t, k))
				return files{c, writeFile(t, filepath.Join(dir, "proxy.key.der"), block.Bytes), ""}
			},
			errHas: []string{"key KEY: is in DER form", "openssl pkey -inform der"},
		},
		{
			name:   "OpenSSH key",
			files:  withKeyFile("id_ed25519", pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte("openssh-key-v1\x00")})),
			errHas: []string{"key KEY: an OpenSSH key cannot serve TLS"},
		},
		{
			name: "oversized certificate",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				big := append(readTestFile(t, c), bytes.Repeat([]byte("# padding\n"), MaxFileSize/10+1)...)
				return files{writeFile(t, filepath.Join(dir, "big.crt"), big), "", ""}
			},
			errHas: []string{"read CERT: larger than 1 MiB"},
		},
		{
			name:   "oversized key",
			files:  withKeyFile("big.key", make([]byte, MaxFileSize+1)),
			errHas: []string{"read KEY: larger than 1 MiB"},
		},
		{
			name: "certificate of exactly the limit",
			files: func(t *testing.T, dir string) files {
				c, _ := pair(t, dir, tlstest.Options{})
				data := readTestFile(t, c)
				data = append(data, bytes.Repeat([]byte{'\n'}, MaxFileSize-len(data))...)
				return files{writeFile(t, filepath.Join(dir, "limit.crt"), data), "", ""}
			},
			want: Result{Subject: "proxy", NotAfter: validUntil},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f := tt.files(t, dir)
			got := Check(f.cert, f.key, f.pass)

			if len(tt.errHas) == 0 {
				if !got.NotAfter.Equal(tt.want.NotAfter) {
					t.Errorf("NotAfter = %v, want %v", got.NotAfter, tt.want.NotAfter)
				}
				got.NotAfter, tt.want.NotAfter = time.Time{}, time.Time{}
				if got != tt.want {
					t.Errorf("Check() = %+v, want %+v", got, tt.want)
				}
				return
			}

			if got.Subject != "" || !got.NotAfter.IsZero() || got.KeyMismatch {
				t.Errorf("Check() = %+v: with Err set the other fields must be unset", got)
			}
			paths := strings.NewReplacer("CERT", f.cert, "KEY", f.key, "PASS", f.pass)
			for _, part := range tt.errHas {
				if want := paths.Replace(part); !strings.Contains(got.Err, want) {
					t.Errorf("Err = %q\nwant it to hold %q", got.Err, want)
				}
			}
			assertNoSecrets(t, got.Err, f.key)
		})
	}
}

// assertNoSecrets fails if a message repeats a passphrase, a PEM block or
// the base64 of a key.
func assertNoSecrets(t *testing.T, msg, keyFile string) {
	t.Helper()
	for _, secret := range []string{passphrase, "Tr0ub4dor", "hunter2", "-----", "\n"} {
		if strings.Contains(msg, secret) {
			t.Errorf("Err = %q holds %q", msg, secret)
		}
	}
	if keyFile == "" {
		return
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
			t.Errorf("Err = %q holds part of the key file", msg)
		}
	}
}

func TestCheck_permissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	c, _ := pair(t, t.TempDir(), tlstest.Options{})
	if err := os.Chmod(c, 0); err != nil {
		t.Fatal(err)
	}
	got := Check(c, "", "")
	if want := "open " + c + ": permission denied"; !strings.HasPrefix(got.Err, want) {
		t.Errorf("Err = %q, want it to start with %q", got.Err, want)
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name string
		cert x509.Certificate
		want string
	}{
		{"common name", x509.Certificate{Subject: pkix.Name{CommonName: "proxy", Organization: []string{"Plant"}}}, "proxy"},
		{"no common name", x509.Certificate{Subject: pkix.Name{Organization: []string{"Plant"}, Country: []string{"DE"}}}, "O=Plant,C=DE"},
		{"empty subject", x509.Certificate{DNSNames: []string{"proxy.example.net", "proxy"}}, "proxy.example.net"},
		{"nothing", x509.Certificate{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subject(&tt.cert); got != tt.want {
				t.Errorf("subject() = %q, want %q", got, tt.want)
			}
		})
	}
}
