package provenance

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPutAttempt records attempts from many goroutines at once, as a
// scatter does (-cpu sets GOMAXPROCS; SetParallelism multiplies it).
func BenchmarkPutAttempt(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "flow.db"), Options{Sync: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.PutAttempt(ctx, scatterAttempt("bench", int(n.Add(1)))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkPutAttemptSerial records attempts one after another: the cost
// a caller pays when nobody else is writing.
func BenchmarkPutAttemptSerial(b *testing.B) {
	db := openTestDB(b)
	b.ResetTimer()
	for i := range b.N {
		if err := db.PutAttempt(ctx, scatterAttempt("serial", i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScatter1000 is the number to quote: a 1,000-way scatter, each
// job recording its attempt from its own goroutine, reported as
// ms/scatter (milliseconds until all 1,000 are committed).
func BenchmarkScatter1000(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync=%v", sync), func(b *testing.B) {
			db, err := Open(filepath.Join(b.TempDir(), "flow.db"), Options{Sync: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var total time.Duration
			for i := range b.N {
				total += recordScatter(b, db, fmt.Sprintf("run%d", i), 1000)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/scatter")
		})
	}
}
