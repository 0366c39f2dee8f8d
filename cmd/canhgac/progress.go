package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar on a terminal for long file work.
// On anything but a terminal it stays silent, so redirected output and
// scripts see only the results.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	label   string
	total   int64
	last    time.Time
	start   time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.enabled = true
		}
	}
	return p
}

// begin starts a bar for one item of total bytes.
func (p *progress) begin(label string, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.total, p.start, p.last = label, total, time.Now(), time.Time{}
}

// update redraws the bar at most ten times a second.
func (p *progress) update(done int64) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done < p.total {
		return
	}
	p.last = now
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	filled := int(frac * width)
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 0.001) / (1 << 20)
	label := p.label
	if r := []rune(label); len(r) > 40 {
		label = "…" + string(r[len(r)-39:])
	}
	fmt.Fprintf(p.w, "\r%-40s [%s%s] %3.0f%% %6.1f MiB/s", label,
		strings.Repeat("█", filled), strings.Repeat("░", width-filled), frac*100, rate)
}

// end clears the bar.
func (p *progress) end() {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", 100))
}
