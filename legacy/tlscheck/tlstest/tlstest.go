// Package tlstest writes generated certificates and private keys into a
// directory, for tests of code that reads TLS material from files: the
// certificate checker, the migration report, listeners and forwarders.
//
// Every key is made when the test runs and lives in the test's directory;
// no private key is ever committed. The material is random except for what
// Options fixes, such as the validity period, so tests pin their dates.
package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// KeyType is the algorithm of a generated key pair.
type KeyType int

// The key types Write makes.
const (
	// ECDSA is an ECDSA P-256 key, the default: quick to make.
	ECDSA KeyType = iota
	// RSA is a 2048-bit RSA key; making one takes seconds under -race.
	RSA
)

// Options describes what Write makes. The zero value is a self-signed
// ECDSA certificate for the name, valid from an hour ago for a year.
type Options struct {
	// NotBefore and NotAfter bound the certificate's validity; they are
	// written to the second. If NotBefore is zero it is a year before
	// NotAfter; if NotAfter is zero, a year after NotBefore; if both are,
	// the certificate is valid from an hour ago for a year.
	NotBefore, NotAfter time.Time
	// CommonName is the subject's common name; if empty, the name given
	// to Write. DNSNames are the subject alternative names; if nil, none.
	CommonName string
	DNSNames   []string
	// KeyType is the algorithm of the certificate's key; if zero, ECDSA.
	KeyType KeyType
	// PKCS8 writes the key as PKCS#8 ("PRIVATE KEY") instead of its
	// traditional form ("EC PRIVATE KEY", "RSA PRIVATE KEY"). Legacy
	// encryption needs the traditional form: it cannot go with Passphrase.
	PKCS8 bool
	// IssuerNotAfter, if set, has the certificate signed by a generated CA
	// valid until then (from NotBefore) instead of by itself, and writes
	// the CA's certificate after it in the certificate file, as a chain.
	IssuerNotAfter time.Time
	// MismatchedKey writes the key of another key pair of the same type:
	// one that does not belong to the certificate.
	MismatchedKey bool
	// Passphrase, if set, encrypts the key with it in the legacy PEM form
	// ("Proc-Type: 4,ENCRYPTED", AES-256-CBC) that sensors accept.
	Passphrase string
}

// Write makes a certificate and private key as opts says and writes them
// to dir as name.crt and name.key (mode 0600), returning their paths. It
// fails the test on any error.
func Write(t testing.TB, dir, name string, opts Options) (certPath, keyPath string) {
	t.Helper()
	if opts.PKCS8 && opts.Passphrase != "" {
		t.Fatal("tlstest: PKCS8 and Passphrase cannot be combined: legacy PEM encryption takes the traditional key form")
	}

	notBefore, notAfter := validity(opts.NotBefore, opts.NotAfter)
	cn := opts.CommonName
	if cn == "" {
		cn = name
	}
	key := newKey(t, opts.KeyType)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     opts.DNSNames,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if opts.KeyType == RSA {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}

	// Self-signed, or signed by a CA whose certificate follows.
	parent, signer := tmpl, key
	var chain []byte
	if !opts.IssuerNotAfter.IsZero() {
		caKey := newKey(t, ECDSA)
		ca := &x509.Certificate{
			SerialNumber:          serial(t),
			Subject:               pkix.Name{CommonName: cn + " CA"},
			NotBefore:             notBefore,
			NotAfter:              opts.IssuerNotAfter,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der := create(t, ca, ca, caKey.Public(), caKey)
		parsed, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("tlstest: parse CA certificate: %v", err)
		}
		parent, signer = parsed, caKey
		chain = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	der := create(t, tmpl, parent, key.Public(), signer)
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), chain...)

	if opts.MismatchedKey {
		key = newKey(t, opts.KeyType)
	}
	keyPEM := encodeKey(t, key, opts)

	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, certPEM, 0o644); err != nil {
		t.Fatalf("tlstest: %v", err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatalf("tlstest: %v", err)
	}
	return certPath, keyPath
}

func validity(notBefore, notAfter time.Time) (time.Time, time.Time) {
	const year = 365 * 24 * time.Hour
	switch {
	case notBefore.IsZero() && notAfter.IsZero():
		notBefore = time.Now().Add(-time.Hour)
		notAfter = notBefore.Add(year)
	case notBefore.IsZero():
		notBefore = notAfter.Add(-year)
	case notAfter.IsZero():
		notAfter = notBefore.Add(year)
	}
	return notBefore, notAfter
}

func newKey(t testing.TB, typ KeyType) crypto.Signer {
	t.Helper()
	var key crypto.Signer
	var err error
	switch typ {
	case ECDSA:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("tlstest: unknown key type %d", typ)
	}
	if err != nil {
		t.Fatalf("tlstest: generate key: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatalf("tlstest: serial number: %v", err)
	}
	return n
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatalf("tlstest: create certificate: %v", err)
	}
	return der
}

// encodeKey writes a private key in PEM, in the form opts asks for.
func encodeKey(t testing.TB, key crypto.Signer, opts Options) []byte {
	t.Helper()
	var block *pem.Block
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatalf("tlstest: marshal key: %v", err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	case *rsa.PrivateKey:
		block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	}

	switch {
	case opts.PKCS8:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatalf("tlstest: marshal key: %v", err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	case opts.Passphrase != "":
		var err error
		//lint:ignore SA1019 the legacy PEM encryption is what sensors take, so tests need keys in it
		block, err = x509.EncryptPEMBlock(rand.Reader, block.Type, block.Bytes, []byte(opts.Passphrase), x509.PEMCipherAES256)
		if err != nil {
			t.Fatalf("tlstest: encrypt key: %v", err)
		}
	}
	return pem.EncodeToMemory(block)
}
