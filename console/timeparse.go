package console

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxRelative bounds relative offsets (ten years), so now-99999999999d
// cannot overflow time.Duration.
const maxRelative = 10 * 365 * 24 * time.Hour

var errTimeSyntax = errors.New("expected RFC 3339 or now[+-]N{s,m,h,d,w,M,y}")

// ParseTimeParam parses a time parameter of the API. It accepts RFC 3339
// ("2024-05-01T12:00:00Z") and a date-time without zone as an HTML
// datetime-local input sends it ("2024-05-01T12:00", taken as UTC). It
// also accepts a date ("2024-05-01", midnight UTC) and a time relative to
// now ("now", "now-15m", "now+1h" with units s, m, h, d, w, and M for
// calendar months and y for calendar years as in Kibana). The result is
// in UTC.
func ParseTimeParam(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "now"); ok {
		if rest == "" {
			return now.UTC(), nil
		}
		sign := rest[0]
		if sign != '-' && sign != '+' || len(rest) < 3 {
			return time.Time{}, fmt.Errorf("time %q: %w", s, errTimeSyntax)
		}
		unit := rest[len(rest)-1]
		n, err := strconv.ParseInt(rest[1:len(rest)-1], 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, fmt.Errorf("time %q: %w", s, errTimeSyntax)
		}
		if unit == 'M' || unit == 'y' {
			months := n
			if unit == 'y' {
				months = n * 12
			}
			if sign == '-' {
				months = -months
			}
			if months > 120 || months < -120 {
				return time.Time{}, fmt.Errorf("time %q: offset longer than ten years", s)
			}
			t := now.AddDate(0, int(months), 0)
			if d := t.Sub(now); d > maxRelative || d < -maxRelative {
				return time.Time{}, fmt.Errorf("time %q: offset longer than ten years", s)
			}
			return t.UTC(), nil
		}
		var step time.Duration
		switch unit {
		case 's':
			step = time.Second
		case 'm':
			step = time.Minute
		case 'h':
			step = time.Hour
		case 'd':
			step = 24 * time.Hour
		case 'w':
			step = 7 * 24 * time.Hour
		default:
			return time.Time{}, fmt.Errorf("time %q: unit %q: %w", s, string(unit), errTimeSyntax)
		}
		if n > int64(maxRelative/step) {
			return time.Time{}, fmt.Errorf("time %q: offset longer than ten years", s)
		}
		d := time.Duration(n) * step
		if sign == '-' {
			d = -d
		}
		return now.Add(d).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: %w", s, errTimeSyntax)
}
