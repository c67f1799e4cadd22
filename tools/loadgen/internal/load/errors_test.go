package load

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ecs-realm/realm/libs/client"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestErrKind(t *testing.T) {
	tests := []struct {
		stage string
		err   error
		want  string
	}{
		{"login", fmt.Errorf("client: login: %w", &client.ServerError{Code: realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED}), "login: RATE_LIMITED"},
		{"play", &client.KickError{Reason: realmv1.CloseReason_CLOSE_REASON_REPLACED}, "kicked: REPLACED"},
		{"join", fmt.Errorf("x: %w", client.ErrHandshakeTimeout), "join: timeout"},
		{"logout", context.DeadlineExceeded, "logout: timeout"},
		{"play", fmt.Errorf("%w: EOF", client.ErrDisconnected), "play: disconnected"},
		{"dial", errors.New("connection refused"), "dial: error"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := errKind(tc.stage, tc.err); got != tc.want {
				t.Errorf("errKind(%q, %v) = %q, want %q", tc.stage, tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorCounts(t *testing.T) {
	e := newErrorCounts()
	e.add("dial", errors.New("first"))
	e.add("dial", errors.New("second"))
	e.add("join", client.ErrHandshakeTimeout)
	counts, samples := e.snapshot()
	if counts["dial: error"] != 2 || counts["join: timeout"] != 1 || e.total.Load() != 3 {
		t.Errorf("counts = %v, total %d", counts, e.total.Load())
	}
	if samples["dial: error"] != "first" {
		t.Errorf("sample = %q, want the first message", samples["dial: error"])
	}
}
