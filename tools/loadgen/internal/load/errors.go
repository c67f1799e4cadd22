package load

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ecs-realm/realm/libs/client"
)

// errorCounts counts errors by kind and keeps the first message of each.
type errorCounts struct {
	total atomic.Uint64

	mu      sync.Mutex // guards the maps
	counts  map[string]uint64
	samples map[string]string
}

func newErrorCounts() *errorCounts {
	return &errorCounts{counts: map[string]uint64{}, samples: map[string]string{}}
}

// add counts err under the kind errKind gives it.
func (e *errorCounts) add(stage string, err error) {
	e.addKind(errKind(stage, err), err.Error())
}

func (e *errorCounts) addKind(kind, sample string) {
	e.total.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts[kind]++
	if _, ok := e.samples[kind]; !ok {
		e.samples[kind] = sample
	}
}

// snapshot returns copies of the counts and the samples.
func (e *errorCounts) snapshot() (map[string]uint64, map[string]string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.counts), maps.Clone(e.samples)
}

// errKind names an error for the report: the stage it happened in and what
// it was, with the protocol's code or reason when the server gave one, such
// as "login: RATE_LIMITED" or "kicked: REPLACED".
func errKind(stage string, err error) string {
	var se *client.ServerError
	var ke *client.KickError
	switch {
	case errors.As(err, &ke):
		return "kicked: " + strings.TrimPrefix(ke.Reason.String(), "CLOSE_REASON_")
	case errors.As(err, &se):
		return stage + ": " + strings.TrimPrefix(se.Code.String(), "ERROR_CODE_")
	case errors.Is(err, client.ErrHandshakeTimeout), errors.Is(err, context.DeadlineExceeded):
		return stage + ": timeout"
	case errors.Is(err, client.ErrDisconnected):
		return stage + ": disconnected"
	default:
		return stage + ": error"
	}
}
