//go:build !unix

package load

import "math"

// RaiseFileLimit does nothing where there is no RLIMIT_NOFILE, and reports
// no limit.
func RaiseFileLimit() (uint64, error) { return math.MaxUint64, nil }
