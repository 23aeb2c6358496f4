package provenance

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkDelay(b *testing.B) {
	for _, d := range []time.Duration{0} {
		for _, sync := range []bool{false, true} {
			b.Run(fmt.Sprintf("delay=%s/sync=%v/par", d, sync), func(b *testing.B) {
				db, _ := Open(filepath.Join(b.TempDir(), "flow.db"), Options{Sync: sync})
				defer db.Close()
				_ = d
				var n atomic.Int64
				b.SetParallelism(16)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						db.PutAttempt(ctx, scatterAttempt("bench", int(n.Add(1))))
					}
				})
			})
			b.Run(fmt.Sprintf("delay=%s/sync=%v/serial", d, sync), func(b *testing.B) {
				db, _ := Open(filepath.Join(b.TempDir(), "flow.db"), Options{Sync: sync})
				defer db.Close()
				_ = d
				for i := range b.N {
					db.PutAttempt(ctx, scatterAttempt("s", i))
				}
			})
			b.Run(fmt.Sprintf("delay=%s/sync=%v/scatter", d, sync), func(b *testing.B) {
				db, _ := Open(filepath.Join(b.TempDir(), "flow.db"), Options{Sync: sync})
				defer db.Close()
				_ = d
				var total time.Duration
				for i := range b.N {
					total += recordScatter(b, db, fmt.Sprintf("run%d", i), 1000)
				}
				b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/scatter")
			})
		}
	}
}
