package world

import "time"

// nextTick decides when the tick after one that was due at due starts, now
// being the time its work finished: at due+period normally; at once when that
// moment has passed (an overrun), the schedule restarting from now so that no
// burst of catch-up ticks follows.
func nextTick(due, now time.Time, period time.Duration) (next time.Time, overrun bool) {
	next = due.Add(period)
	if !now.Before(next) {
		return now, true
	}
	return next, false
}
