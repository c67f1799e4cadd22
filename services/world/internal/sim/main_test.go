package sim

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

// Step starts worker goroutines: none may outlive it. (BenchmarkTickPublish
// runs an embedded NATS server.)
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.IgnoreServerTicker()) }
