package ingress

import (
	"testing"

	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

func BenchmarkExpReadCost(b *testing.B) {
	for _, v := range []struct {
		name string
		f    func(b *testing.B)
	}{
		{"bare", func(b *testing.B) { BenchmarkThroughput(b) }},
	} {
		_ = v
	}
	b.Run("ingress-nopublish", func(b *testing.B) {
		udpserver.ReadNanos.Store(0)
		udpserver.ReadPkts.Store(0)
		benchIngress(b, 0, true)
		b.ReportMetric(float64(udpserver.ReadNanos.Load())/float64(udpserver.ReadPkts.Load()), "read-ns/pkt")
	})
	b.Run("inline-nopublish", func(b *testing.B) {
		udpserver.ReadNanos.Store(0)
		udpserver.ReadPkts.Store(0)
		benchIngress(b, -1, true)
		b.ReportMetric(float64(udpserver.ReadNanos.Load())/float64(udpserver.ReadPkts.Load()), "read-ns/pkt")
	})
}
