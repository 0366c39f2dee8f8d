//go:build unix

// Package cputime measures this process's CPU time and peak memory for the
// benchmarks. On a machine shared with other builds, events per CPU-second
// vary far less than events per wall-clock second.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Process returns the user plus system CPU time of this process, or 0 when
// the system does not report it.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSSMiB returns the largest resident set size of this process so far,
// in MiB, or 0 when the system does not report it.
func PeakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	// Linux reports ru_maxrss in KiB.
	return float64(ru.Maxrss) / 1024
}

// Report adds b.N per CPU-second since start, as the metric "<unit>/cpu-s".
func Report(b *testing.B, start time.Duration, unit string) {
	if used := Process() - start; used > 0 {
		b.ReportMetric(float64(b.N)/used.Seconds(), unit+"/cpu-s")
	}
}
