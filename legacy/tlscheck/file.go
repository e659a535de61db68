package tlscheck

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// fileRole is what a file should hold, for the advice in errors.
type fileRole struct {
	// what names the content ("certificate"); missing says what to do when
	// the file does not exist.
	what    string
	missing string
}

var (
	certificateFile = fileRole{"certificate", "copy the certificate in use (the one uploaded to the appliance's rule, or otbridge's own) to this path, or correct the path"}
	keyFileRole     = fileRole{"private key", "copy the private key that goes with the certificate to this path, or correct the path"}
	passphraseRole  = fileRole{"key passphrase", "write the key's passphrase to this file, or correct the path"}
)

// readFile reads a whole file of at most MaxFileSize bytes. Its errors
// name the file and say what to do; they never quote the contents.
func readFile(path string, role fileRole) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("open %s: no such file: %s", path, role.missing)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("open %s: permission denied: let the user running otbridge read it", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, unwrapPath(err))
	}
	defer f.Close()

	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory: name the %s file itself", path, role.what)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, unwrapPath(err))
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read %s: larger than 1 MiB, too large for a %s file: name the PEM %s", path, role.what, role.what)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("read %s: file is empty: put the %s in it", path, role.what)
	}
	return data, nil
}

// unwrapPath drops the operation and path of an *fs.PathError, which the
// caller's message already gives.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
