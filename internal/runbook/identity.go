package runbook

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Call is one kind of API call a run makes and the identity it makes it
// with, for `cutover plan` to show before anything runs.
type Call struct {
	// What is called: "zone Z…", "distribution E…".
	What string `json:"what"`
	// As is the identity: the caller's default credentials, a role (with
	// its chain), or a TSIG key.
	As string `json:"as"`
}

// DefaultIdentity describes the credentials used when no role is named.
const DefaultIdentity = "the default AWS credentials (environment, profile, SSO)"

// Calls lists the identity each call of the run uses: the zone's, each
// distribution's (when a step calls CloudFront) sorted by id, then each
// CloudWatch-reading gate's.
func (rb *Runbook) Calls() []Call {
	out := rb.zoneAndCDNCalls()
	for _, g := range rb.Gates {
		if role, ok := gateRole(g); ok {
			out = append(out, Call{What: "gate " + g.Name, As: "CloudWatch as " + rb.identity(role)})
		}
	}
	return out
}

// gateRole is the role a gate reads CloudWatch with, and whether it reads
// CloudWatch at all (probe gates call no AWS API).
func gateRole(g Gate) (string, bool) {
	var spec struct {
		RoleARN    string `json:"role_arn"`
		CloudWatch *struct {
			RoleARN string `json:"role_arn"`
		} `json:"cloudwatch"`
	}
	if json.Unmarshal(g.Spec, &spec) != nil {
		return "", false
	}
	switch g.Kind {
	case "cloudwatch":
		return spec.RoleARN, true
	case KindDrain:
		if spec.CloudWatch != nil {
			return spec.CloudWatch.RoleARN, true
		}
	}
	return "", false
}

func (rb *Runbook) zoneAndCDNCalls() []Call {
	var out []Call
	if zs := rb.ZoneServer; zs != nil {
		as := "rfc2136 at " + zs.Server + ", unsigned"
		if t := zs.TSIG; t != nil {
			from := "file " + t.SecretFile
			if t.SecretEnv != "" {
				from = "$" + t.SecretEnv
			}
			as = fmt.Sprintf("rfc2136 at %s, TSIG key %s (%s, secret from %s)", zs.Server, t.Name, t.Algorithm, from)
		}
		out = append(out, Call{What: "zone " + strings.TrimSuffix(rb.Zone, "."), As: as})
	} else {
		out = append(out, Call{What: "zone " + rb.Zone, As: "Route 53 as " + rb.identity(rb.ZoneRoleARN)})
	}
	if !rb.UsesCDN() {
		return out
	}
	if rb.CDNRoleARN != "" || len(rb.DistributionRoles) == 0 {
		out = append(out, Call{What: "distributions", As: "CloudFront as " + rb.identity(rb.CDNRoleARN)})
	}
	ids := make([]string, 0, len(rb.DistributionRoles))
	for id := range rb.DistributionRoles {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, Call{What: "distribution " + id, As: "CloudFront as " + rb.identity(rb.DistributionRoles[id])})
	}
	return out
}

// identity describes how role is reached.
func (rb *Runbook) identity(role string) string {
	if role == "" {
		return DefaultIdentity
	}
	id := rb.Identities[role]
	s := role
	if len(id.Chain) > 0 {
		s += " (via " + strings.Join(id.Chain, " → ") + ")"
	}
	if id.ExternalID != "" {
		s += ", with an external id"
	}
	session := id.SessionName
	if session == "" {
		session = "cutover"
	}
	return s + ", session " + session
}
