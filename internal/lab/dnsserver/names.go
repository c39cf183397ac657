package dnsserver

import (
	"fmt"
	"strings"
)

// Three spellings of a name meet here. miekg/dns gives and takes the
// presentation form (\DDD decimal escapes); the lab's Route 53 keeps the
// raw form (lower-case bytes, trailing dot) but parses its input with
// Route 53's \NNN octal escapes. Lookups work on the raw form.

// toRaw decodes a presentation-form name into the raw form. ok is false
// for a name with a dot inside a label, which no lab zone can hold.
func toRaw(name string) (string, bool) {
	if !strings.Contains(name, `\`) {
		name = strings.ToLower(name)
		if !strings.HasSuffix(name, ".") {
			name += "."
		}
		return name, true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' {
			switch {
			case i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]):
				v := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
				if v > 255 {
					return "", false
				}
				c = byte(v)
				i += 3
			case i+1 < len(name):
				i++
				c = name[i]
			default:
				return "", false
			}
			if c == '.' {
				return "", false
			}
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	out := b.String()
	if !strings.HasSuffix(out, ".") {
		out += "."
	}
	return out, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plain reports whether c needs no escape in either spelling.
func plain(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '*'
}

// toPresentation renders a raw name for miekg/dns.
func toPresentation(raw string) string {
	return escape(raw, "\\%03d")
}

// route53Name renders a raw name the way the lab's Route 53 parses it.
func route53Name(raw string) string {
	return escape(raw, "\\%03o")
}

func escape(raw, format string) string {
	clean := true
	for i := 0; i < len(raw); i++ {
		if !plain(raw[i]) {
			clean = false
			break
		}
	}
	if clean {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; plain(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, format, c)
		}
	}
	return b.String()
}
