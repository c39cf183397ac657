package iam

import (
	"encoding/json"
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
	Sid       string    `json:"Sid,omitempty"`
	Effect    string    `json:"Effect"`
	Action    []string  `json:"Action"`
	Resource  []string  `json:"Resource"`
	Condition Condition `json:"Condition,omitempty"`
}

// Condition is a statement's Condition block: operator → key → values.
// Allows evaluates the operators cutover writes: StringEquals and
// ForAllValues:StringEquals.
type Condition map[string]map[string][]string

// Grants collects actions on resources, with the conditions that narrow
// an action, and renders them as a Document. The zero value is not ready:
// use NewGrants.
type Grants struct {
	resources  map[string]map[string]bool // action → resource ARNs
	conditions map[string]Condition       // action → its condition
}

// NewGrants returns empty grants.
func NewGrants() *Grants {
	return &Grants{resources: map[string]map[string]bool{}, conditions: map[string]Condition{}}
}

// Add grants each action on resource.
func (g *Grants) Add(resource string, actions ...string) {
	for _, a := range actions {
		if g.resources[a] == nil {
			g.resources[a] = map[string]bool{}
		}
		g.resources[a][resource] = true
	}
}

// Restrict adds to action's condition: the request's values of key must
// all be among values (ForAllValues:StringEquals), merged with the values
// restricted before.
func (g *Grants) Restrict(action, key string, values ...string) {
	const op = "ForAllValues:StringEquals"
	c := g.conditions[action]
	if c == nil {
		c = Condition{}
		g.conditions[action] = c
	}
	if c[op] == nil {
		c[op] = map[string][]string{}
	}
	set := map[string]bool{}
	for _, v := range append(c[op][key], values...) {
		set[v] = true
	}
	merged := make([]string, 0, len(set))
	for v := range set {
		merged = append(merged, v)
	}
	sort.Strings(merged)
	c[op][key] = merged
}

// Actions returns the granted actions, sorted.
func (g *Grants) Actions() []string {
	out := make([]string, 0, len(g.resources))
	for a := range g.resources {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Document renders the grants: one statement per service and set of
// resources, actions and resources sorted, so the same grants always give
// the same bytes.
func (g *Grants) Document() Document {
	type key struct{ service, resources, condition string }
	groups := map[key][]string{}
	resources := map[key][]string{}
	for _, a := range g.Actions() {
		var rs []string
		for r := range g.resources[a] {
			if !covered(g.resources[a], r) {
				rs = append(rs, r)
			}
		}
		sort.Strings(rs)
		service, _, _ := strings.Cut(a, ":")
		cond, _ := json.Marshal(g.conditions[a]) // sorted keys: a stable group key
		k := key{service, strings.Join(rs, " "), string(cond)}
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
		if keys[i].resources != keys[j].resources {
			return keys[i].resources < keys[j].resources
		}
		return keys[i].condition < keys[j].condition
	})
	d := Document{Version: PolicyVersion, Statement: []Statement{}}
	seen := map[string]int{}
	for _, k := range keys {
		// Service and resource type, Scoped under a condition:
		// Route53Hostedzone, Route53HostedzoneScoped, CloudfrontAll.
		sid := sidWord(k.service) + sidWord(resourceType(resources[k][0]))
		if k.condition != "null" {
			sid += "Scoped"
		}
		seen[sid]++
		if n := seen[sid]; n > 1 {
			sid += strconv.Itoa(n)
		}
		st := Statement{Sid: sid, Effect: "Allow", Action: groups[k], Resource: resources[k]}
		if k.condition != "null" {
			_ = json.Unmarshal([]byte(k.condition), &st.Condition)
		}
		d.Statement = append(d.Statement, st)
	}
	return d
}

// holds evaluates c against a request's context. ForAllValues:StringEquals
// holds when every value of the key is listed (and, as in IAM, when the
// request has no value for the key); StringEquals needs a value, and every
// value listed. An operator cutover does not write never holds.
func (c Condition) holds(context map[string][]string) bool {
	for op, keys := range c {
		for key, allowed := range keys {
			ok := map[string]bool{}
			for _, v := range allowed {
				ok[v] = true
			}
			values := context[key]
			switch op {
			case "ForAllValues:StringEquals":
			case "StringEquals":
				if len(values) == 0 {
					return false
				}
			default:
				return false
			}
			for _, v := range values {
				if !ok[v] {
					return false
				}
			}
		}
	}
	return true
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

// resourceType is the type part of an ARN (hostedzone, distribution,
// role), "all" for "*".
func resourceType(arn string) string {
	if arn == "*" {
		return "all"
	}
	rest := arn[strings.LastIndexByte(arn, ':')+1:]
	typ, _, _ := strings.Cut(rest, "/")
	return typ
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
// permissions is evaluated on, so only a "*" grant allows it. A statement
// with a condition allows only requests whose context (condition key →
// the request's values) satisfies it; Allows evaluates with an empty one.
func (d Document) Allows(action, resource string) bool {
	return d.AllowsRequest(action, resource, nil)
}

// AllowsRequest is Allows for a request with its condition key values.
func (d Document) AllowsRequest(action, resource string, context map[string][]string) bool {
	for _, s := range d.Statement {
		if s.Effect != "Allow" || !s.Condition.holds(context) {
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
