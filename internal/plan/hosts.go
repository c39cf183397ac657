package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxFileDiagnostics bounds the bad lines reported for one hostnames file:
// a file of the wrong kind would otherwise bury every other problem.
const maxFileDiagnostics = 20

// readHostFiles reads the file of every `hostnames` selector that names
// one, relative to the directory of planFile, into the selector's Entries.
// A line that is not a hostname, optionally followed by a zone id, is
// reported at FILE:LINE:1.
func readHostFiles(p *Plan, planFile string, failed map[any]bool) Diagnostics {
	var diags Diagnostics
	for i := range p.Hostnames {
		h := &p.Hostnames[i]
		if h.File == "" || failed[&h.File] {
			continue
		}
		at := p.positions[&h.File]
		path := h.File
		if !filepath.IsAbs(path) && planFile != "" {
			path = filepath.Join(filepath.Dir(planFile), path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			diags = append(diags, Diagnostic{Pos: at, Severity: SeverityError, Message: fmt.Sprintf("`hostnames[%d].file`: reading the hostnames: %v", i, err)})
			failed[&h.File] = true
			continue
		}
		bad := 0
		for n, line := range strings.Split(string(data), "\n") {
			if c := strings.IndexByte(line, '#'); c >= 0 {
				line = line[:c]
			}
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			pos := Pos{File: path, Line: n + 1, Col: 1}
			msg := ""
			name, zone := strings.TrimSuffix(fields[0], "."), ""
			if len(fields) > 1 {
				zone = bareZoneID(fields[1])
			}
			switch {
			case len(fields) > 2:
				msg = fmt.Sprintf("expected a hostname, optionally followed by a hosted zone id, got %d fields", len(fields))
			case checkHostname(name) != "":
				msg = fmt.Sprintf("expected a hostname, optionally followed by a hosted zone id: the hostname %s", checkHostname(name))
			case len(fields) == 2 && !zoneIDRE.MatchString(zone):
				msg = fmt.Sprintf("expected a hostname, optionally followed by a hosted zone id like Z0123456789ABCDEFGHIJ, got zone %q", fields[1])
			}
			if msg != "" {
				bad++
				if bad <= maxFileDiagnostics {
					diags = append(diags, Diagnostic{Pos: pos, Severity: SeverityError, Message: msg})
				}
				continue
			}
			h.Entries = append(h.Entries, FileHost{Pos: pos, Name: name, Zone: zone})
		}
		switch {
		case bad > maxFileDiagnostics:
			diags = append(diags, Diagnostic{Pos: at, Severity: SeverityError, Message: fmt.Sprintf("`hostnames[%d].file`: %s has %d bad lines; the first %d are reported", i, path, bad, maxFileDiagnostics)})
		case bad == 0 && len(h.Entries) == 0:
			diags = append(diags, Diagnostic{Pos: at, Severity: SeverityError, Message: fmt.Sprintf("`hostnames[%d].file`: %s lists no hostnames", i, path)})
		}
		if bad > 0 {
			failed[&h.File] = true
		}
	}
	return diags
}

// bareZoneID is a hosted zone id without its /hostedzone/ prefix.
func bareZoneID(id string) string {
	return strings.TrimPrefix(strings.TrimPrefix(id, "/"), "hostedzone/")
}

// checkGlob returns what is wrong with a `match` glob, or "".
func checkGlob(g string) string {
	labels := strings.Split(g, ".")
	stars := 0
	for stars < len(labels) && labels[stars] == "*" {
		stars++
	}
	rest := labels[stars:]
	switch {
	case stars == 0 && !strings.Contains(g, "*"):
		return fmt.Sprintf("has no `*`, so it selects one name; list it in `names` instead, got %q", g)
	case len(rest) == 0:
		return fmt.Sprintf("must end in the domain its names share, like *.cdn.example.com, got %q", g)
	}
	for _, l := range rest {
		if strings.Contains(l, "*") {
			return fmt.Sprintf("may use `*` only as whole labels at the left (each stands for one or more labels, like *.cdn.example.com), got %q", g)
		}
	}
	if msg := checkHostname(strings.Join(rest, ".")); msg != "" {
		return fmt.Sprintf("must be `*` labels followed by a domain: the domain %s", msg)
	}
	return ""
}

// MatchHost reports whether the hostname name (trailing dot optional)
// matches the glob of a `hostnames` selector: each leading `*` label stands
// for one or more labels, the rest must be equal.
func MatchHost(glob, name string) bool {
	glob = strings.TrimSuffix(glob, ".")
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	stars := 0
	for strings.HasPrefix(glob, "*.") {
		glob = glob[2:]
		stars++
	}
	if stars == 0 || glob == "" || strings.Contains(glob, "*") {
		return false
	}
	prefix, ok := strings.CutSuffix(name, "."+glob)
	if !ok || prefix == "" {
		return false
	}
	return strings.Count(prefix, ".")+1 >= stars
}

// hostnames checks a bulk plan: its selectors and what they allow around
// them.
func (v *validator) hostnames() {
	p := v.p
	if !p.IsBulk() {
		if p.has(&p.Hostnames) && !v.broken(&p.Hostnames) {
			v.errf(&p.Hostnames, p.Pos, "`hostnames` must list at least one selector (zone with match, names or file)")
		}
		if vf := p.Verify; vf != nil && p.has(&vf.Hostnames) {
			v.errf(&vf.Hostnames, vf.Pos, "`verify.hostnames` is for a plan with `hostnames`: this plan moves one hostname, and verify checks it")
		}
		return
	}
	if p.has(&p.Hostname) {
		v.errf(&p.Hostname, p.Pos, "`hostname` and `hostnames` exclude each other: a plan moves one hostname, or every hostname its `hostnames` select")
	}
	if p.Zone.Provider != ProviderRoute53 && contains(Providers, p.Zone.Provider) {
		v.errf(&p.Zone.Provider, p.Zone.Pos, "`hostnames` need zone provider route53 (packed change batches across hosted zones), got %s", p.Zone.Provider)
	}
	if p.Strategy != StrategyWeighted && p.Strategy != StrategyFlip && !v.broken(&p.Strategy) {
		v.errf(&p.Strategy, p.Pos, "strategy %s moves one hostname at a time; a plan with `hostnames` uses weighted (the default) or flip", p.Strategy)
	}
	first := map[string]Pos{}
	seen := func(name string, at Pos) {
		if prev, dup := first[name]; dup {
			v.diags = append(v.diags, Diagnostic{Pos: at, Severity: SeverityError,
				Message: fmt.Sprintf("hostname %s is selected twice (first at %s)", name, prev)})
			return
		}
		first[name] = at
	}
	globs := map[string]Pos{}
	for i := range p.Hostnames {
		h := &p.Hostnames[i]
		path := fmt.Sprintf("hostnames[%d]", i)
		switch {
		case h.Zone != "":
			if !zoneIDRE.MatchString(h.Zone) {
				v.errf(&h.Zone, h.Pos, "`%s.zone` must be a hosted zone id like Z0123456789ABCDEFGHIJ, got %q", path, h.Zone)
			}
		case p.Zone.ID == "" && !v.broken(&p.Zone.ID) && !v.broken(&h.Zone) && !v.broken(&h.File) && !(h.File != "" && fileNamesEveryZone(h)):
			v.errf(nil, h.Pos, "`%s` names no zone, and there is no `zone.id` to default to: give it `zone` (a hosted zone id)", path)
		}
		set := []string{}
		for _, f := range []struct {
			ptr any
			key string
		}{{&h.Match, "match"}, {&h.Names, "names"}, {&h.File, "file"}} {
			if p.has(f.ptr) {
				set = append(set, f.key)
			}
		}
		switch len(set) {
		case 0:
			v.errf(nil, h.Pos, "`%s` needs exactly one of match, names or file", path)
			continue
		case 1:
		default:
			v.errf(nil, h.Pos, "`%s` sets %s; a selector is exactly one of match, names or file: split it into several", path, strings.Join(set, " and "))
			continue
		}
		switch set[0] {
		case "match":
			if v.broken(&h.Match) {
				continue
			}
			if msg := checkGlob(h.Match); msg != "" {
				v.errf(&h.Match, h.Pos, "`%s.match` %s", path, msg)
				continue
			}
			zone := h.Zone
			if zone == "" {
				zone = p.Zone.ID
			}
			key := zone + " " + h.Match
			if prev, dup := globs[key]; dup {
				v.errf(&h.Match, h.Pos, "`%s.match` %s in zone %s is also the selector at %s", path, h.Match, zone, prev)
			} else {
				globs[key] = p.positions[&h.Match]
			}
		case "names":
			if len(h.Names) == 0 && !v.broken(&h.Names) {
				v.errf(&h.Names, h.Pos, "`%s.names` must list at least one hostname", path)
			}
			for j := range h.Names {
				if v.broken(&h.Names[j]) {
					continue
				}
				if msg := checkHostname(h.Names[j]); msg != "" {
					v.errf(&h.Names[j], h.Pos, "`%s.names[%d]` %s", path, j, msg)
					continue
				}
				seen(h.Names[j], v.posOf(&h.Names[j], h.Pos))
			}
		case "file":
			for _, e := range h.Entries {
				seen(e.Name, e.Pos)
			}
		}
	}
}

// fileNamesEveryZone reports whether every line of h's file names its zone.
func fileNamesEveryZone(h *HostSelector) bool {
	for _, e := range h.Entries {
		if e.Zone == "" {
			return false
		}
	}
	return len(h.Entries) > 0
}

// posOf is where the file set the field at ptr, else fallback.
func (v *validator) posOf(ptr any, fallback Pos) Pos {
	if pos, ok := v.p.positions[ptr]; ok {
		return pos
	}
	return fallback
}
