//go:build !unix

package udptest

import "time"

// processCPU returns 0: the process CPU time is read on Unix only.
func processCPU() time.Duration { return 0 }
