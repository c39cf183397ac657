package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// TokenPath is where the token of the server whose state is statePath
// lives: next to it.
func TokenPath(statePath string) string { return statePath + ".token" }

// LoadOrCreateToken reads the bearer token at path, or, when there is
// none, generates one (256 random bits, hex) and stores it there with mode
// 0600. created says which: the caller prints a new token once. A token
// file readable by others is refused.
func LoadOrCreateToken(path string) (token string, created bool, err error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, serr := os.Stat(path)
		if serr != nil {
			return "", false, fmt.Errorf("token file %s: %w", path, serr)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return "", false, fmt.Errorf("token file %s is readable by others (mode %s); chmod 600 it", path, fi.Mode().Perm())
		}
		t := strings.TrimSpace(string(data))
		if t == "" {
			return "", false, fmt.Errorf("token file %s is empty", path)
		}
		return t, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", false, fmt.Errorf("reading token file: %w", err)
	}
	if token, err = NewToken(); err != nil {
		return "", false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("writing token file: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("writing token file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", false, fmt.Errorf("writing token file: %w", err)
	}
	return token, true, nil
}

// NewToken is a fresh bearer token: 256 random bits, hex.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
