package rules

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the user plus system CPU time of this process.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds events per CPU-second, which a machine shared with other
// builds distorts far less than events per wall-clock second.
func reportCPU(b *testing.B, start time.Duration) {
	used := processCPU(b) - start
	if used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), "events/cpu-s")
	}
}
