package logparse

import "time"

// futureSlack is how far after the reference a timestamp without a year may
// lie before it is moved to the previous year. A line is written when its
// event happens, so it cannot be later than the file's modification time or
// its own receive time; two days cover clock skew between hosts and a sender
// that logs in another zone (zone offsets differ by at most 26 hours).
const futureSlack = 2 * 24 * time.Hour

// resolveYear returns the time for a timestamp without a year: the year of
// ref (in loc), minus one when that would put the time more than futureSlack
// after ref.
func resolveYear(month time.Month, day, hour, minute, sec, nsec int, loc *time.Location, ref time.Time) time.Time {
	year := ref.In(loc).Year()
	t := time.Date(year, month, day, hour, minute, sec, nsec, loc)
	if t.Sub(ref) > futureSlack {
		t = time.Date(year-1, month, day, hour, minute, sec, nsec, loc)
	}

	return t
}

// parseMonth returns the month of a three-letter English abbreviation.
func parseMonth(s string) (time.Month, bool) {
	if len(s) < 3 {
		return 0, false
	}

	switch s[:3] {
	case "Jan":
		return time.January, true
	case "Feb":
		return time.February, true
	case "Mar":
		return time.March, true
	case "Apr":
		return time.April, true
	case "May":
		return time.May, true
	case "Jun":
		return time.June, true
	case "Jul":
		return time.July, true
	case "Aug":
		return time.August, true
	case "Sep":
		return time.September, true
	case "Oct":
		return time.October, true
	case "Nov":
		return time.November, true
	case "Dec":
		return time.December, true
	}

	return 0, false
}

// num parses s[i:i+n] as a decimal number.
func num(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}

	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}

	return v, true
}

// parseClock parses "hh:mm:ss" at s[i:] and returns the index after it.
func parseClock(s string, i int) (h, m, sec, next int, ok bool) {
	var ok1, ok2, ok3 bool
	h, ok1 = num(s, i, 2)
	m, ok2 = num(s, i+3, 2)
	sec, ok3 = num(s, i+6, 2)
	if !ok1 || !ok2 || !ok3 || s[i+2] != ':' || s[i+5] != ':' || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, 0, false
	}

	return h, m, sec, i + 8, true
}

// parseFraction parses an optional ".ddd" at s[i:] into nanoseconds.
func parseFraction(s string, i int) (nsec, next int) {
	if i >= len(s) || (s[i] != '.' && s[i] != ',') {
		return 0, i
	}

	j := i + 1
	scale := 100000000
	for j < len(s) && isDigit(s[j]) {
		if scale > 0 {
			nsec += int(s[j]-'0') * scale
			scale /= 10
		}
		j++
	}

	if j == i+1 {
		return 0, i
	}

	return nsec, j
}

// parseBSDStamp parses "Mmm dd hh:mm:ss" (day space- or zero-padded, or a
// single digit after one space) with optional fractional seconds, at the start
// of s. It returns the index after the stamp.
func parseBSDStamp(s string, loc *time.Location, ref time.Time) (time.Time, int, bool) {
	if len(s) < 14 || s[3] != ' ' {
		return time.Time{}, 0, false
	}

	month, ok := parseMonth(s)
	if !ok {
		return time.Time{}, 0, false
	}

	i := 4
	if s[i] == ' ' {
		i++
	}

	day := 0
	for i < len(s) && isDigit(s[i]) && day < 100 {
		day = day*10 + int(s[i]-'0')
		i++
	}

	if day < 1 || day > 31 || i >= len(s) || s[i] != ' ' {
		return time.Time{}, 0, false
	}
	i++
	if i+8 > len(s) {
		return time.Time{}, 0, false
	}

	h, m, sec, next, ok := parseClock(s, i)
	if !ok {
		return time.Time{}, 0, false
	}

	nsec, next := parseFraction(s, next)
	return resolveYear(month, day, h, m, sec, nsec, loc, ref), next, true
}

// parseISOStamp parses "yyyy-mm-ddThh:mm:ss[.frac][Z|±hh:mm|±hhmm]" at the
// start of s; a space instead of 'T' is accepted. Without a zone the time is
// in loc.
func parseISOStamp(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') {
		return time.Time{}, 0, false
	}

	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 5, 2)
	d, ok3 := num(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, 0, false
	}

	h, m, sec, i, ok := parseClock(s, 11)
	if !ok {
		return time.Time{}, 0, false
	}

	nsec, i := parseFraction(s, i)
	zone := loc
	if i < len(s) {
		switch c := s[i]; {
		case c == 'Z':
			zone = time.UTC
			i++
		case c == '+' || c == '-':
			zh, okh := num(s, i+1, 2)
			j := i + 3
			if j < len(s) && s[j] == ':' {
				j++
			}
			zm, okm := num(s, j, 2)
			if okh && okm && zh < 24 && zm < 60 {
				off := zh*3600 + zm*60
				if c == '-' {
					off = -off
				}
				zone = time.FixedZone("", off)
				i = j + 2
			}
		}
	}

	return time.Date(y, time.Month(mo), d, h, m, sec, nsec, zone), i, true
}

// parseCtimeStamp parses "Www Mmm dd hh:mm:ss[.frac] yyyy" (Apache error log,
// vsftpd) at the start of s, in loc.
func parseCtimeStamp(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 24 || s[3] != ' ' || s[7] != ' ' {
		return time.Time{}, 0, false
	}

	month, ok := parseMonth(s[4:])
	if !ok {
		return time.Time{}, 0, false
	}

	i := 8
	if s[i] == ' ' {
		i++
	}

	day := 0
	for i < len(s) && isDigit(s[i]) && day < 100 {
		day = day*10 + int(s[i]-'0')
		i++
	}

	if day < 1 || day > 31 || i >= len(s) || s[i] != ' ' {
		return time.Time{}, 0, false
	}

	h, m, sec, i, ok := parseClock(s, i+1)
	if !ok {
		return time.Time{}, 0, false
	}

	nsec, i := parseFraction(s, i)
	if i >= len(s) || s[i] != ' ' {
		return time.Time{}, 0, false
	}

	y, ok := num(s, i+1, 4)
	if !ok {
		return time.Time{}, 0, false
	}

	return time.Date(y, month, day, h, m, sec, nsec, loc), i + 5, true
}
