// Package tlscheck reads the certificate and key files that forwarding
// rules and otbridge's own TLS settings name, and says what the migration
// report needs to know about them before anything is cut over: whether they
// can be read at all, whose certificate it is, when it expires, and whether
// the key belongs to it.
//
// A sensor whose certificate has expired, or whose key does not fit its
// certificate, forwards nothing and says nothing; Check finds that on
// disk, offline. It opens no connection and verifies no chain of trust.
// What it returns never holds key material, passphrases or raw file
// contents: an error names the file and says what to do.
package tlscheck

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Result is what Check found about one certificate file and its key.
type Result struct {
	// Err says why the material cannot be used, naming the file and what
	// to do; empty when it can. When Err is set the other fields are unset.
	Err string
	// Subject names the leaf (first) certificate: its common name, else
	// its whole subject, else its first DNS name.
	Subject string
	// NotAfter is the earliest expiry among the certificates in the file:
	// the leaf's, or an issuer's in the chain when that comes sooner,
	// because the chain stops working with its first expiry.
	NotAfter time.Time
	// KeyMismatch: a key was checked and its public key is not the leaf
	// certificate's, so a TLS handshake with the pair fails.
	KeyMismatch bool
}

// Check reads the PEM certificate file certFile (a leaf, possibly followed
// by its chain, or a bundle of CA certificates) and the PEM private key in
// keyFile, and reports on them. Either name may be empty: only what is
// given is checked, and with both empty the Result is empty.
//
// The leaf is the first certificate in the file: Subject describes it and
// the key is compared with its public key. NotAfter is the earliest
// NotAfter of all the certificates in the file.
//
// The key may be PKCS#1 ("RSA PRIVATE KEY"), SEC 1 ("EC PRIVATE KEY") or
// PKCS#8 ("PRIVATE KEY"), and an RSA or EC key may be encrypted in the
// legacy PEM form ("Proc-Type: 4,ENCRYPTED"), which passphraseFile opens;
// its trailing line break is ignored, and it is read only for an encrypted
// key. Encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY") is refused with advice
// on converting it. With keyFile empty, a private key inside certFile is
// checked as if keyFile named it.
//
// Files over MaxFileSize are refused.
func Check(certFile, keyFile, passphraseFile string) Result {
	r, err := check(certFile, keyFile, passphraseFile)
	if err != nil {
		return Result{Err: err.Error()}
	}
	return r
}

// MaxFileSize is the largest certificate, key or passphrase file Check
// reads, 1 MiB: a PEM chain is a few kilobytes.
const MaxFileSize = 1 << 20

func check(certFile, keyFile, passphraseFile string) (Result, error) {
	var r Result
	var leaf *x509.Certificate
	keyName, keyData := keyFile, []byte(nil)

	if certFile != "" {
		data, err := readFile(certFile, certificateFile)
		if err != nil {
			return Result{}, err
		}
		certs, hasKey, err := parseCertificates(certFile, data)
		if err != nil {
			return Result{}, err
		}
		leaf = certs[0]
		r.Subject = subject(leaf)
		r.NotAfter = earliestExpiry(certs)
		if keyFile == "" && hasKey {
			keyName, keyData = certFile, data
		}
	}

	if keyFile != "" {
		data, err := readFile(keyFile, keyFileRole)
		if err != nil {
			return Result{}, err
		}
		keyData = data
	}
	if keyData == nil {
		return r, nil
	}

	key, err := parseKey(keyName, keyData, passphraseFile)
	if err != nil {
		return Result{}, err
	}
	if leaf != nil {
		match, err := keyMatches(leaf, key)
		if err != nil {
			return Result{}, fmt.Errorf("certificate %s: %w", certFile, err)
		}
		r.KeyMismatch = !match
	}
	return r, nil
}

// parseCertificates returns the certificates in a PEM file, in order, and
// whether it holds a private key too.
func parseCertificates(path string, data []byte) (certs []*x509.Certificate, hasKey bool, err error) {
	sawPEM := false
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, false, fmt.Errorf("certificate %s: certificate %d in the file cannot be parsed (%s): replace it with an intact PEM copy",
					path, len(certs)+1, strings.TrimPrefix(err.Error(), "x509: "))
			}
			certs = append(certs, c)
		case isKeyBlock(b.Type):
			hasKey = true
		}
	}

	switch {
	case len(certs) > 0:
		return certs, hasKey, nil
	case hasKey:
		return nil, false, fmt.Errorf("certificate %s: holds a private key but no certificate: name the certificate file here and the key file as the key", path)
	case sawPEM:
		return nil, false, fmt.Errorf("certificate %s: holds no certificate (no BEGIN CERTIFICATE block): name the PEM certificate file", path)
	case isDERCertificate(data):
		return nil, false, fmt.Errorf("certificate %s: is in DER form, not PEM: convert it (openssl x509 -inform der -in %s -out %s.pem) and name the PEM file", path, path, path)
	}
	return nil, false, fmt.Errorf("certificate %s: not a PEM file (no BEGIN CERTIFICATE block): name the PEM certificate file", path)
}

func isDERCertificate(data []byte) bool {
	_, err := x509.ParseCertificate(data)
	return err == nil
}

// isKeyBlock reports whether a PEM block type is a private key of any
// kind, including ones Check cannot read.
func isKeyBlock(typ string) bool {
	return strings.HasSuffix(typ, "PRIVATE KEY")
}

// subject names a certificate for a report.
func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return ""
}

func earliestExpiry(certs []*x509.Certificate) time.Time {
	t := certs[0].NotAfter
	for _, c := range certs[1:] {
		if c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}

// keyMatches reports whether key is the private half of the certificate's
// public key.
func keyMatches(c *x509.Certificate, key crypto.PrivateKey) (bool, error) {
	pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return false, errors.New("cannot compare the key with the certificate: its public key algorithm is not supported (RSA, ECDSA, Ed25519 and X25519 are)")
	}
	priv, ok := key.(interface{ Public() crypto.PublicKey })
	if !ok {
		return false, nil
	}
	return pub.Equal(priv.Public()), nil
}
