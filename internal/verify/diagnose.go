package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// cloudFrontAPI is the part of CloudFront the diagnosis reads. It never
// writes: a diagnosis must be safe to run in the middle of an incident.
type cloudFrontAPI interface {
	ListDistributions(ctx context.Context, in *cloudfront.ListDistributionsInput, optFns ...func(*cloudfront.Options)) (*cloudfront.ListDistributionsOutput, error)
	ListConflictingAliases(ctx context.Context, in *cloudfront.ListConflictingAliasesInput, optFns ...func(*cloudfront.Options)) (*cloudfront.ListConflictingAliasesOutput, error)
}

var _ cloudFrontAPI = (*cloudfront.Client)(nil)

// cloudFrontSuffix ends every distribution's own domain name.
const cloudFrontSuffix = ".cloudfront.net"

// AliasHolder is a distribution that answers for the hostname at the edge:
// it holds the exact alternate domain name or a wildcard covering it.
type AliasHolder struct {
	Alias          string `json:"alias"`
	DistributionID string `json:"distribution_id"`
	// AccountID is masked by CloudFront (leading asterisks) when the
	// distribution belongs to another account.
	AccountID string `json:"account_id,omitempty"`
}

// Diagnosis explains, from CloudFront's configuration, why clients that DNS
// sends to one distribution are answered by another.
type Diagnosis struct {
	Hostname string `json:"hostname"`
	// Target is the distribution DNS points at (given, or found by the
	// domain name the CNAME chain ends at) and TargetDomain its domain.
	Target       string `json:"target,omitempty"`
	TargetDomain string `json:"target_domain,omitempty"`
	// TargetStatus is InProgress while edges still apply a change.
	TargetStatus string `json:"target_status,omitempty"`
	// Holders hold the hostname (exact alias first, then wildcards).
	Holders []AliasHolder `json:"holders,omitempty"`
	// Findings are the explanations, most important first.
	Findings []string `json:"findings"`
	// Errors are CloudFront calls that failed; the findings say what could
	// still be known without them.
	Errors []string `json:"errors,omitempty"`
}

// Diagnoser asks CloudFront who holds a hostname.
type Diagnoser struct {
	api cloudFrontAPI
}

// NewDiagnoser returns a diagnoser reading through api (a
// *cloudfront.Client in production).
func NewDiagnoser(api cloudFrontAPI) *Diagnoser { return &Diagnoser{api: api} }

// CloudFrontDomains returns the distinct *.cloudfront.net names the
// resolvers' CNAME chains of m end at, in the order first seen.
func CloudFrontDomains(m *Matrix) []string {
	var out []string
	for _, r := range m.Resolvers {
		for _, c := range r.Chains {
			if len(c) == 0 {
				continue
			}
			last := strings.ToLower(strings.TrimSuffix(c[len(c)-1], "."))
			if strings.HasSuffix(last, cloudFrontSuffix) && !contains(out, last) {
				out = append(out, last)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// distribution is the part of a distribution summary the diagnosis uses.
type distribution struct {
	id, domain, status string
	aliases            []string
}

// Diagnose explains who answers hostname. target is the distribution DNS
// should lead to; when empty it is looked up among the caller's
// distributions by one of domains (the *.cloudfront.net names DNS led to).
func (d *Diagnoser) Diagnose(ctx context.Context, hostname, target string, domains []string) *Diagnosis {
	host := strings.ToLower(strings.TrimSuffix(hostname, "."))
	dg := &Diagnosis{Hostname: host, Target: target}
	own, listErr := d.listOwn(ctx)
	if listErr != nil {
		dg.Errors = append(dg.Errors, "ListDistributions: "+listErr.Error())
	}
	byID := map[string]distribution{}
	for _, x := range own {
		byID[x.id] = x
	}
	if target == "" {
		// The first domain wins: the caller lists what DNS says now first.
	find:
		for _, dom := range domains {
			for _, x := range own {
				if x.domain == dom {
					dg.Target = x.id
					break find
				}
			}
		}
		if dg.Target == "" {
			switch {
			case len(domains) == 0:
				dg.Findings = append(dg.Findings, fmt.Sprintf("DNS for %s does not lead to a CloudFront distribution; name one with --distribution-new", host))
			case listErr == nil:
				dg.Findings = append(dg.Findings, fmt.Sprintf("DNS leads to %s, which is not a distribution of this account; name the distribution with --distribution-new, using credentials of its account", strings.Join(domains, ", ")))
			}
			return dg
		}
	}
	if x, ok := byID[dg.Target]; ok {
		dg.TargetDomain, dg.TargetStatus = x.domain, x.status
	}

	holders, err := d.conflicts(ctx, dg.Target, host)
	if err != nil {
		dg.Errors = append(dg.Errors, "ListConflictingAliases: "+err.Error())
		// Without it only the caller's own distributions can be searched.
		holders = ownHolders(own, host)
	}
	dg.Holders = holders
	dg.Findings = append(dg.Findings, explain(host, dg, holders, err != nil)...)
	return dg
}

// explain turns the holders into sentences.
func explain(host string, dg *Diagnosis, holders []AliasHolder, partial bool) []string {
	targetName := dg.Target
	var exact, wild []AliasHolder
	for _, h := range holders {
		if h.Alias == host {
			exact = append(exact, h)
		} else {
			wild = append(wild, h)
		}
	}
	var out []string
	switch {
	case len(exact) > 0 && exact[0].DistributionID == dg.Target:
		s := fmt.Sprintf("alias %s is attached to %s, which DNS points at", host, targetName)
		if dg.TargetStatus != "" && dg.TargetStatus != "Deployed" {
			s += fmt.Sprintf("; its configuration is %s, so some edges still route %s the old way until it is Deployed (and for a few minutes after an alias move)", dg.TargetStatus, host)
		} else {
			s += "; after an alias move either distribution may answer for a few minutes, and resolvers may still hold old answers"
		}
		out = append(out, s)
	case len(exact) > 0:
		h := exact[0]
		out = append(out, fmt.Sprintf("alias %s is still attached to distribution %s%s, not to %s which DNS points at; CloudFront routes by Host/SNI, not by DNS",
			host, h.DistributionID, account(h), targetName))
	case len(wild) > 0:
		h := wild[0]
		if h.DistributionID == dg.Target {
			out = append(out, fmt.Sprintf("no distribution holds %s exactly; wildcard %s on %s, which DNS points at, covers it", host, h.Alias, targetName))
		} else {
			out = append(out, fmt.Sprintf("no distribution holds %s exactly, but wildcard %s on distribution %s%s covers it, not %s which DNS points at; CloudFront routes by Host/SNI, not by DNS",
				host, h.Alias, h.DistributionID, account(h), targetName))
		}
	case partial:
		out = append(out, fmt.Sprintf("none of this account's distributions holds %s; a distribution of another account may (ListConflictingAliases could not tell)", host))
	default:
		out = append(out, fmt.Sprintf("no distribution holds alias %s: CloudFront answers it with 403 until %s gets it as an alternate domain name", host, targetName))
	}
	if len(exact) > 0 && exact[0].DistributionID != dg.Target {
		h := exact[0]
		if strings.HasPrefix(h.AccountID, "*") {
			// AssociateAlias from another account needs the source
			// disabled, which would drop every request still reaching it.
			out = append(out, fmt.Sprintf("to move it: %s belongs to another account, which must remove the alias (or disable the distribution before AssociateAlias to %s); drain it first through a bridge",
				h.DistributionID, targetName))
		} else {
			out = append(out, fmt.Sprintf("to move it: AssociateAlias %s to %s (with a TXT record _%s holding %s's domain), or remove it from %s and add it to %s",
				host, targetName, host, targetName, h.DistributionID, targetName))
		}
	}
	return out
}

func account(h AliasHolder) string {
	if h.AccountID == "" {
		return ""
	}
	return " (account " + h.AccountID + ")"
}

// listOwn pages through the caller's distributions.
func (d *Diagnoser) listOwn(ctx context.Context) ([]distribution, error) {
	var out []distribution
	in := &cloudfront.ListDistributionsInput{}
	for range 100 {
		resp, err := d.api.ListDistributions(ctx, in)
		if err != nil {
			return out, err
		}
		l := resp.DistributionList
		if l == nil {
			return out, nil
		}
		for _, s := range l.Items {
			x := distribution{id: aws.ToString(s.Id), domain: strings.ToLower(aws.ToString(s.DomainName)), status: aws.ToString(s.Status)}
			if s.Aliases != nil {
				x.aliases = s.Aliases.Items
			}
			out = append(out, x)
		}
		if !aws.ToBool(l.IsTruncated) || aws.ToString(l.NextMarker) == "" {
			return out, nil
		}
		in.Marker = l.NextMarker
	}
	return out, errors.New("too many pages")
}

// conflicts asks CloudFront, across accounts, which distributions hold
// host or a wildcard covering it.
func (d *Diagnoser) conflicts(ctx context.Context, target, host string) ([]AliasHolder, error) {
	var out []AliasHolder
	in := &cloudfront.ListConflictingAliasesInput{DistributionId: aws.String(target), Alias: aws.String(host), MaxItems: aws.Int32(100)}
	for range 100 {
		resp, err := d.api.ListConflictingAliases(ctx, in)
		if err != nil {
			return nil, err
		}
		l := resp.ConflictingAliasesList
		if l == nil {
			break
		}
		for _, c := range l.Items {
			out = append(out, AliasHolder{Alias: strings.ToLower(aws.ToString(c.Alias)), DistributionID: aws.ToString(c.DistributionId), AccountID: aws.ToString(c.AccountId)})
		}
		if aws.ToString(l.NextMarker) == "" {
			break
		}
		in.Marker = l.NextMarker
	}
	sortHolders(out, host)
	return out, nil
}

// ownHolders searches the caller's distributions for host.
func ownHolders(own []distribution, host string) []AliasHolder {
	var out []AliasHolder
	for _, x := range own {
		for _, a := range x.aliases {
			a = strings.ToLower(a)
			if a == host || wildcardCovers(a, host) {
				out = append(out, AliasHolder{Alias: a, DistributionID: x.id})
			}
		}
	}
	sortHolders(out, host)
	return out
}

// sortHolders puts the exact alias first, then the most specific wildcard:
// the order in which an edge picks the distribution.
func sortHolders(hs []AliasHolder, host string) {
	sort.SliceStable(hs, func(i, j int) bool {
		ei, ej := hs[i].Alias == host, hs[j].Alias == host
		if ei != ej {
			return ei
		}
		return len(hs[i].Alias) > len(hs[j].Alias)
	})
}

// wildcardCovers reports whether a CloudFront wildcard alias ("*.x")
// routes host: at the edge it covers names at any depth below x.
func wildcardCovers(alias, host string) bool {
	suffix, ok := strings.CutPrefix(alias, "*")
	return ok && strings.HasPrefix(suffix, ".") && len(host) > len(suffix) && strings.HasSuffix(host, suffix)
}

// WriteText renders the diagnosis as "why:" lines.
func (dg *Diagnosis) WriteText(w interface{ Write([]byte) (int, error) }) error {
	for _, f := range dg.Findings {
		if _, err := fmt.Fprintf(w, "why: %s\n", f); err != nil {
			return err
		}
	}
	for _, e := range dg.Errors {
		if _, err := fmt.Fprintf(w, "diagnosis incomplete: %s\n", e); err != nil {
			return err
		}
	}
	return nil
}
