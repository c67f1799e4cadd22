package client

import (
	"errors"
	"fmt"
	"testing"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestErrors(t *testing.T) {
	kick := fmt.Errorf("wrapped: %w", &KickError{Reason: realmv1.CloseReason_CLOSE_REASON_REPLACED, Message: "elsewhere"})
	if !errors.Is(kick, ErrKicked) {
		t.Error("KickError does not match ErrKicked")
	}
	var ke *KickError
	if !errors.As(kick, &ke) || ke.Reason != realmv1.CloseReason_CLOSE_REASON_REPLACED {
		t.Errorf("errors.As(KickError) = %v", ke)
	}

	tests := []struct {
		name string
		err  error
		want realmv1.ErrorCode
	}{
		{"nil", nil, realmv1.ErrorCode_ERROR_CODE_UNSPECIFIED},
		{"other", errors.New("x"), realmv1.ErrorCode_ERROR_CODE_UNSPECIFIED},
		{"wrapped server error", fmt.Errorf("login: %w", &ServerError{Code: realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED}), realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CodeOf(tc.err); got != tc.want {
				t.Errorf("CodeOf = %v, want %v", got, tc.want)
			}
		})
	}
}
