package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultPath returns where the state file lives when the user does not say:
// $XDG_STATE_HOME/cutover/state.db, or ~/.local/state/cutover/state.db when
// XDG_STATE_HOME is unset or not absolute (the XDG spec says to ignore
// relative values). It creates nothing; file-backed stores create the
// directory (0700) on open.
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "cutover", "state.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "cutover", "state.db"), nil
}

// ProcessOwner returns the lease owner name for this process, "host:pid".
// File-backed stores recognise this form: a lease whose owner is a process of
// this machine that no longer exists is taken over without waiting for its
// expiry, so `kill -9` followed by an immediate resume does not wait.
func ProcessOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// ParseProcessOwner splits an owner of the form "host:pid". ok is false for
// any other form, which stores then treat as an opaque name.
func ParseProcessOwner(owner string) (host string, pid int, ok bool) {
	i := strings.LastIndexByte(owner, ':')
	if i <= 0 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(owner[i+1:])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return owner[:i], pid, true
}
