//go:build race

package ingress

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// allocation counts of code using pools are meaningless.
const raceEnabled = true
