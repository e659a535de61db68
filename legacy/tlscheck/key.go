package tlscheck

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// parseKey returns the first private key in a PEM file, decrypting it
// with the passphrase in passphraseFile if it is encrypted. Its errors
// never quote the key, the passphrase or the parser's own words about
// either.
func parseKey(path string, data []byte, passphraseFile string) (crypto.PrivateKey, error) {
	block, sawPEM := firstKeyBlock(data)
	if block == nil {
		switch {
		case sawPEM:
			return nil, fmt.Errorf("key %s: holds no private key (no BEGIN PRIVATE KEY block): name the key file", path)
		case isDERKey(data):
			return nil, fmt.Errorf("key %s: is in DER form, not PEM: convert it (openssl pkey -inform der -in %s -out %s.pem) and name the PEM file", path, path, path)
		}
		return nil, fmt.Errorf("key %s: not a PEM file (no BEGIN PRIVATE KEY block): name the PEM private key file", path)
	}

	switch block.Type {
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("key %s: encrypted PKCS#8 keys (BEGIN ENCRYPTED PRIVATE KEY) cannot be read: convert it to the legacy PEM encryption (openssl pkey -in %s -traditional -aes256 -out NEW) or decrypt it", path, path)
	case "OPENSSH PRIVATE KEY":
		return nil, fmt.Errorf("key %s: an OpenSSH key cannot serve TLS: give the PEM private key that goes with the certificate", path)
	}

	der := block.Bytes
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		if passphraseFile == "" {
			return nil, fmt.Errorf("key %s: the private key is encrypted: name the file with its passphrase (an action's passphrase_file) or decrypt it (openssl pkey -in %s -out PLAIN)", path, path)
		}
		pass, err := readPassphrase(passphraseFile)
		if err != nil {
			return nil, err
		}
		//lint:ignore SA1019 sensors take legacy-encrypted PEM keys, and x509 is the standard library's only reader of them
		der, err = x509.DecryptPEMBlock(block, pass)
		switch {
		case errors.Is(err, x509.IncorrectPasswordError):
			return nil, fmt.Errorf("key %s: the passphrase in %s does not decrypt the key: put the key's passphrase in it", path, passphraseFile)
		case err != nil:
			return nil, fmt.Errorf("key %s: cannot decrypt (%s): replace it with an intact copy", path, strings.TrimPrefix(err.Error(), "x509: "))
		}
		// A wrong passphrase passes the padding check about once in 256
		// tries and leaves garbage behind.
		key, ok := parseKeyDER(der)
		if !ok {
			return nil, fmt.Errorf("key %s: the passphrase in %s does not decrypt the key, or the key is damaged: check both", path, passphraseFile)
		}
		return key, nil
	}

	key, ok := parseKeyDER(der)
	if !ok {
		return nil, fmt.Errorf("key %s: cannot parse the private key: give an RSA, ECDSA or Ed25519 key in PEM (PKCS#1, PKCS#8 or EC)", path)
	}
	return key, nil
}

// firstKeyBlock returns the first private key block in data, and whether
// data held any PEM block at all.
func firstKeyBlock(data []byte) (key *pem.Block, sawPEM bool) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, sawPEM
		}
		sawPEM = true
		if isKeyBlock(b.Type) {
			return b, true
		}
	}
}

// parseKeyDER parses a PKCS#1, PKCS#8 or SEC 1 private key, whatever the
// PEM block's type says, as crypto/tls does.
func parseKeyDER(der []byte) (crypto.PrivateKey, bool) {
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, true
	}
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return key, true
	}
	if key, err := x509.ParseECPrivateKey(der); err == nil {
		return key, true
	}
	return nil, false
}

func isDERKey(data []byte) bool {
	_, ok := parseKeyDER(data)
	return ok
}

// readPassphrase reads a passphrase file, less its trailing line break.
func readPassphrase(path string) ([]byte, error) {
	data, err := readFile(path, passphraseRole)
	if err != nil {
		return nil, err
	}
	pass := bytes.TrimRight(data, "\r\n")
	if len(pass) == 0 {
		return nil, fmt.Errorf("read %s: holds only a line break: put the key's passphrase in it", path)
	}
	return pass, nil
}
