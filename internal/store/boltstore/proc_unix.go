//go:build unix

package boltstore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/cutover/cutover/internal/store"
)

// liveness judges "host:pid" owners that run on this machine.
type liveness struct{ host string }

func newLiveness() liveness {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost" // what store.ProcessOwner uses in the same case
	}
	return liveness{host: host}
}

// local returns the pid of owner when it names a process of this machine.
func (l liveness) local(owner string) (int, bool) {
	host, pid, ok := store.ParseProcessOwner(owner)
	if !ok || host != l.host {
		return 0, false
	}
	return pid, true
}

// Stamp records the owner's process start time, so that a later process that
// happens to get the same pid is not taken for the owner.
func (l liveness) Stamp(owner string) string {
	pid, ok := l.local(owner)
	if !ok {
		return ""
	}
	_, start := procStat(pid)
	return start
}

// Check reports whether the owner's process is gone: no such pid, a zombie
// (killed but not yet reaped by its parent), or a pid now used by a process
// that started at another time.
func (l liveness) Check(owner, stamp string) (bool, string) {
	host, _, ok := store.ParseProcessOwner(owner)
	if !ok {
		return false, ""
	}
	pid, local := l.local(owner)
	if !local {
		return false, fmt.Sprintf("the owner runs on %s, not on this machine; the lease can be taken once it expires", host)
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return true, fmt.Sprintf("process %d no longer exists", pid)
	}
	state, start := procStat(pid)
	if state == "Z" {
		return true, fmt.Sprintf("process %d has exited", pid)
	}
	if stamp != "" && start != "" && start != stamp {
		return true, fmt.Sprintf("process %d is not the owner (the pid was reused)", pid)
	}
	return false, fmt.Sprintf("process %d is still running", pid)
}

// procStat reads the state and start time of pid from /proc; both are empty
// where /proc is not available, and the kill(0) probe is used alone.
func procStat(pid int) (state, start string) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", ""
	}
	return parseStat(string(b))
}

// parseStat extracts the state and start time from a /proc/<pid>/stat line.
func parseStat(s string) (state, start string) {
	// The command name in parentheses may contain spaces and parentheses, so
	// fields are counted from the last ')'. After it: state is field 3 of the
	// line, starttime field 22.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return "", ""
	}
	return f[0], f[19]
}
