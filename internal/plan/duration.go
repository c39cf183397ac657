package plan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in Go syntax (90s, 5m, 1h30m) with one
// extension: d for days of 24 hours (3d, 1d12h), because holds and TTL
// preparation are naturally counted in days.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// ParseDuration parses Go duration syntax plus the d (24h) unit.
func ParseDuration(s string) (Duration, error) {
	orig := s
	if s == "" {
		return 0, errors.New("empty duration")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	var days float64
	var rest strings.Builder
	for s != "" {
		// A number, then a unit made of letters (µ included).
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		num := s[:i]
		j := i
		for j < len(s) && !(s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		unit := s[i:j]
		if unit == "" {
			return 0, fmt.Errorf("missing unit in duration %q", orig)
		}
		if unit == "d" {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q", orig)
			}
			days += f
		} else {
			rest.WriteString(num)
			rest.WriteString(unit)
		}
		s = s[j:]
	}
	var total time.Duration
	if rest.Len() > 0 {
		v, err := time.ParseDuration(rest.String())
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", orig)
		}
		total = v
	}
	const maxDays = float64(1<<63-1) / float64(24*time.Hour)
	if days > maxDays {
		return 0, fmt.Errorf("duration %q is too long", orig)
	}
	dd := time.Duration(days * float64(24*time.Hour))
	if total > 0 && dd > time.Duration(1<<63-1)-total {
		return 0, fmt.Errorf("duration %q is too long", orig)
	}
	total += dd
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// String renders d compactly, using days when the value is a whole number
// of them: 72h is "3d", 90m is "1h30m", 0 is "0s".
func (d Duration) String() string {
	v := time.Duration(d)
	if v == 0 {
		return "0s"
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	day := 24 * time.Hour
	var b strings.Builder
	b.WriteString(sign)
	if v >= day && v%time.Second == 0 {
		b.WriteString(strconv.FormatInt(int64(v/day), 10))
		b.WriteString("d")
		v %= day
	}
	if v == 0 {
		return b.String()
	}
	if v%time.Second != 0 {
		b.WriteString(v.String())
		return b.String()
	}
	if h := v / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		v %= time.Hour
	}
	if m := v / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		v %= time.Minute
	}
	if s := v / time.Second; s > 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// MarshalText renders d in the same syntax the plan file accepts.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts the plan file syntax.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
