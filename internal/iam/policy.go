package iam

import (
	"sort"
	"strconv"
	"strings"
)

// PolicyVersion is the policy language version every document uses.
const PolicyVersion = "2012-10-17"

// Document is an identity-based IAM policy.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow of actions on resources. cutover never writes
// Deny: a least-privilege policy only lists what it needs.
type Statement struct {
	Sid      string   `json:"Sid,omitempty"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// Grants collects actions on resources and renders them as a Document.
type Grants map[string]map[string]bool // action → resource ARNs

// Add grants each action on resource.
func (g Grants) Add(resource string, actions ...string) {
	for _, a := range actions {
		if g[a] == nil {
			g[a] = map[string]bool{}
		}
		g[a][resource] = true
	}
}

// Actions returns the granted actions, sorted.
func (g Grants) Actions() []string {
	out := make([]string, 0, len(g))
	for a := range g {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Document renders the grants: one statement per service and set of
// resources, actions and resources sorted, so the same grants always give
// the same bytes.
func (g Grants) Document() Document {
	type key struct{ service, resources string }
	groups := map[key][]string{}
	resources := map[key][]string{}
	for _, a := range g.Actions() {
		var rs []string
		for r := range g[a] {
			if !covered(g[a], r) {
				rs = append(rs, r)
			}
		}
		sort.Strings(rs)
		service, _, _ := strings.Cut(a, ":")
		k := key{service, strings.Join(rs, " ")}
		groups[k] = append(groups[k], a)
		resources[k] = rs
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].service != keys[j].service {
			return keys[i].service < keys[j].service
		}
		return keys[i].resources < keys[j].resources
	})
	d := Document{Version: PolicyVersion, Statement: []Statement{}}
	perService := map[string]int{}
	for _, k := range keys {
		perService[k.service]++
		sid := sidWord(k.service)
		if n := perService[k.service]; n > 1 {
			sid += strconv.Itoa(n)
		}
		d.Statement = append(d.Statement, Statement{Sid: sid, Effect: "Allow", Action: groups[k], Resource: resources[k]})
	}
	return d
}

// covered reports whether another resource of the set matches r, which
// then adds nothing (a distribution next to distribution/*).
func covered(set map[string]bool, r string) bool {
	for other := range set {
		if other != r && Match(other, r) {
			return true
		}
	}
	return false
}

// sidWord makes a statement id of a service prefix: alphanumeric only.
func sidWord(service string) string {
	var b strings.Builder
	up := true
	for _, r := range service {
		if r < 'a' || r > 'z' {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
			up = true
			continue
		}
		if up {
			r -= 'a' - 'A'
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Allows reports whether some statement of d allows action on resource,
// with IAM's matching: action names compare case-insensitively, ARNs
// case-sensitively, and in both "*" matches any run of characters and "?"
// any one. resource "*" is what an action without resource-level
// permissions is evaluated on, so only a "*" grant allows it.
func (d Document) Allows(action, resource string) bool {
	for _, s := range d.Statement {
		if s.Effect != "Allow" {
			continue
		}
		actionOK := false
		for _, a := range s.Action {
			if Match(strings.ToLower(a), strings.ToLower(action)) {
				actionOK = true
				break
			}
		}
		if !actionOK {
			continue
		}
		for _, r := range s.Resource {
			if Match(r, resource) {
				return true
			}
		}
	}
	return false
}

// Match reports whether value matches pattern, where "*" matches any run
// of characters (none included, "/" and ":" included) and "?" exactly
// one; everything else matches itself.
func Match(pattern, value string) bool {
	p, v := 0, 0
	star, mark := -1, 0
	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, v
			p++
		case star >= 0:
			p = star + 1
			mark++
			v = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
