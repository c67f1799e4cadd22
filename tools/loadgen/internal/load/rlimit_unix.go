//go:build unix

package load

import (
	"fmt"
	"syscall"
)

// RaiseFileLimit raises the soft limit on open files to the hard limit (each
// player holds a TCP and a UDP socket) and returns the new soft limit.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("get file limit: %w", err)
	}
	if l.Cur >= l.Max {
		return l.Cur, nil
	}
	old := l.Cur
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return old, fmt.Errorf("raise file limit: %w", err)
	}
	return l.Cur, nil
}
