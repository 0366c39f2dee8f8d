package console

import (
	"testing"
	"time"
)

func TestParseTimeParam(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	tests := []struct {
		in   string
		want time.Time
	}{
		{"now", now.UTC()},
		{" now ", now.UTC()},
		{"now-15m", now.Add(-15 * time.Minute).UTC()},
		{"now-24h", now.Add(-24 * time.Hour).UTC()},
		{"now+1h", now.Add(time.Hour).UTC()},
		{"now-7d", now.Add(-7 * 24 * time.Hour).UTC()},
		{"now-2w", now.Add(-14 * 24 * time.Hour).UTC()},
		{"now-30s", now.Add(-30 * time.Second).UTC()},
		{"now-3y", now.AddDate(-3, 0, 0).UTC()},
		{"now-6M", now.AddDate(0, -6, 0).UTC()},
		{"now+1y", now.AddDate(1, 0, 0).UTC()},
		{"2024-05-01T12:00:00Z", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01T19:00:00+07:00", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01T12:00:00.123456789Z", time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)},
		{"2024-05-01T12:00", time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)},
		{"2024-05-01T12:00:05", time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC)},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTimeParam(tt.in, now)
		if err != nil {
			t.Errorf("ParseTimeParam(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTimeParam(%q) = %v, want %v in UTC", tt.in, got, tt.want)
		}
	}
}

func TestParseTimeParamRejects(t *testing.T) {
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	for _, in := range []string{"", "yesterday", "now-", "now-15", "now-15y", "now*15m", "now--1m", "now-1.5h",
		"now-999999999999999d", "2024-13-01", "12:00", "now-m"} {
		if got, err := ParseTimeParam(in, now); err == nil {
			t.Errorf("ParseTimeParam(%q) = %v, want error", in, got)
		}
	}
}

func FuzzParseTimeParam(f *testing.F) {
	for _, s := range []string{"now", "now-15m", "now+1h", "now-7d", "2024-05-01T12:00:00Z", "2024-05-01T12:00", "2024-05-01", "now-99999999999w"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimeParam(s, now)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTimeParam(%q) = %v, not UTC", s, got)
		}
		if d := got.Sub(now); len(s) >= 3 && s[:3] == "now" && (d > maxRelative || d < -maxRelative) {
			t.Fatalf("ParseTimeParam(%q) = %v, beyond the relative bound", s, got)
		}
	})
}
