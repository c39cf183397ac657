package route53

import (
	"fmt"
	"strings"
)

// parseName turns a name as a client sent it into the raw form the emulator
// stores (see RecordSet): Route 53's \NNN octal escapes decoded, ASCII
// lower-cased, trailing dot added. problem is the InvalidChangeBatch message
// when the name is not a valid domain name.
func parseName(s string) (raw, problem string) {
	if s == "" {
		return "", fmt.Sprintf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", s)
	}
	if s == "." {
		return ".", ""
	}
	var labels []string
	var cur []byte
	wire := 1 // the root label's length octet
	flush := func() string {
		if len(cur) == 0 {
			return fmt.Sprintf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", s)
		}
		if len(cur) > 63 {
			return fmt.Sprintf("FATAL problem: LabelTooLong (Label is too long) encountered with '%s'", encodeLabel(string(cur)))
		}
		labels = append(labels, string(cur))
		wire += 1 + len(cur)
		cur = cur[:0]
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if p := flush(); p != "" {
				return "", p
			}
			continue
		case c == '\\':
			if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
				v := int(s[i+1]-'0')*64 + int(s[i+2]-'0')*8 + int(s[i+3]-'0')
				if v > 255 {
					return "", fmt.Sprintf("FATAL problem: InvalidEscape (Invalid escape sequence) encountered with '%s'", s)
				}
				c = byte(v)
				i += 3
			} else if i+1 < len(s) {
				i++
				c = s[i]
			} else {
				return "", fmt.Sprintf("FATAL problem: InvalidEscape (Invalid escape sequence) encountered with '%s'", s)
			}
			if c == '.' {
				// A dot inside a label is legal DNS but nothing in the lab
				// needs it; refusing keeps every name splittable on '.'.
				return "", fmt.Sprintf("FATAL problem: UnsupportedEscape (escaped dot inside a label is not supported by the lab) encountered with '%s'", s)
			}
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		cur = append(cur, c)
	}
	if len(cur) > 0 {
		if p := flush(); p != "" {
			return "", p
		}
	}
	if wire > 255 {
		return "", fmt.Sprintf("FATAL problem: DomainNameTooLong (Domain name is too long) encountered with '%s'", s)
	}
	return strings.Join(labels, ".") + ".", ""
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// encodeName renders a raw name the way Route 53 returns it: every byte
// other than a-z, 0-9, '-', '_' and '.' as a \NNN octal escape, so the
// wildcard label comes back as \052.
func encodeName(raw string) string {
	return encodeLabel(raw)
}

func encodeLabel(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	return b.String()
}

// nameSortKey is the key ListResourceRecordSets and ListHostedZonesByName
// sort by: labels reversed, each in escaped form and followed by a dot
// ("com.example.www."), compared as ASCII — so the trailing dot sorts after
// characters such as '-' exactly as the Route 53 documentation warns.
func nameSortKey(raw string) string {
	labels := splitLabels(raw)
	var b strings.Builder
	for i := len(labels) - 1; i >= 0; i-- {
		b.WriteString(encodeLabel(labels[i]))
		b.WriteByte('.')
	}
	return b.String()
}

// splitLabels returns the labels of a raw name, leftmost first; the root has
// none.
func splitLabels(raw string) []string {
	raw = strings.TrimSuffix(raw, ".")
	if raw == "" {
		return nil
	}
	return strings.Split(raw, ".")
}

// within reports whether raw name lies at or below zone.
func within(name, zone string) bool {
	return name == zone || zone == "." || strings.HasSuffix(name, "."+zone)
}

// parent returns the raw name one label up; the root's parent is itself.
func parent(raw string) string {
	if raw == "." {
		return "."
	}
	i := strings.IndexByte(raw, '.')
	if i == len(raw)-1 {
		return "."
	}
	return raw[i+1:]
}

// isWildcard reports whether the leftmost label is exactly "*" — the only
// position where Route 53 (and DNS) treats '*' as a wildcard. Elsewhere it
// is a literal character.
func isWildcard(raw string) bool { return strings.HasPrefix(raw, "*.") }

// canonicalID strips any "/hostedzone/", "/change/" or other path prefix a
// client left on an id, as botocore's fix_route53_ids does.
func canonicalID(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}
