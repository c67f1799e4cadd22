package bus_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.IgnoreServerTicker()) }
