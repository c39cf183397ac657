package conformance

import (
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

var accountNumber = regexp.MustCompile(`\b[0-9]{12}\b`)

// distConfig is the distribution cutover creates in its tests: one custom
// origin, an ACM certificate, the given aliases.
func distConfig(ref, cert string, aliases ...string) *types.DistributionConfig {
	return &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("conformance " + ref),
		Enabled:         aws.Bool(true),
		Aliases:         &types.Aliases{Quantity: aws.Int32(int32(len(aliases))), Items: aliases},
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("app"), DomainName: aws.String("app.origin.test"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(8080), HTTPSPort: aws.Int32(8443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("app"), ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
		},
		PriceClass:        types.PriceClassPriceClass100,
		ViewerCertificate: &types.ViewerCertificate{ACMCertificateArn: aws.String(cert), SSLSupportMethod: types.SSLSupportMethodSniOnly, MinimumProtocolVersion: types.MinimumProtocolVersionTLSv122021},
	}
}

// configView is the part of a DistributionConfig cutover reads or writes.
type configView struct {
	Ref, Comment   string
	Enabled        bool
	Aliases        []string
	Origins        []string
	TargetOrigin   string
	ViewerProtocol string
	CachePolicy    string
	Certificate    string
	SSLSupport     string
	MinProtocol    string
	PriceClass     string
}

func (r *run) config(c *types.DistributionConfig) configView {
	if c == nil {
		return configView{}
	}
	v := configView{Ref: str(c.CallerReference), Comment: str(c.Comment), Enabled: aws.ToBool(c.Enabled), PriceClass: string(c.PriceClass)}
	if c.Aliases != nil {
		v.Aliases = slices.Clone(c.Aliases.Items)
		slices.Sort(v.Aliases)
	}
	if c.Origins != nil {
		for _, o := range c.Origins.Items {
			desc := str(o.Id) + " " + str(o.DomainName)
			if co := o.CustomOriginConfig; co != nil {
				desc += " " + string(co.OriginProtocolPolicy)
			}
			v.Origins = append(v.Origins, desc)
		}
	}
	if b := c.DefaultCacheBehavior; b != nil {
		v.TargetOrigin, v.ViewerProtocol, v.CachePolicy = str(b.TargetOriginId), string(b.ViewerProtocolPolicy), str(b.CachePolicyId)
	}
	if vc := c.ViewerCertificate; vc != nil {
		v.Certificate = r.arn(str(vc.ACMCertificateArn), "cert")
		v.SSLSupport, v.MinProtocol = string(vc.SSLSupportMethod), string(vc.MinimumProtocolVersion)
	}
	return v
}

// distView is a distribution as compared in general. Its ETag and the
// status a write answers with are compared in their own steps (cf/etags,
// cf/status-at-write), where moto's departures are named.
type distView struct {
	ID, ARN, Domain string
	Config          configView
}

func (r *run) dist(d *types.Distribution) distView {
	return distView{ID: r.id("dist", str(d.Id)), ARN: r.arn(str(d.ARN), "dist"), Domain: r.id("domain", str(d.DomainName)), Config: r.config(d.DistributionConfig)}
}

// issuedCertificate requests a DNS-validated certificate and publishes its
// validation record, the way an operator would, recording what ACM said
// before and after.
func (r *run) issuedCertificate(zone string, domains ...string) string {
	out, err := r.p.acm.RequestCertificate(r.ctx, &acm.RequestCertificateInput{
		DomainName: aws.String(domains[0]), SubjectAlternativeNames: domains[1:], ValidationMethod: acmtypes.ValidationMethodDns,
	})
	r.need("request certificate", err)
	arn := str(out.CertificateArn)
	r.record("acm/request", r.arn(arn, "cert"), nil)

	desc, err := r.p.acm.DescribeCertificate(r.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	r.need("describe certificate", err)
	r.record("acm/describe-pending", r.certificate(desc.Certificate), nil)
	var changes []r53types.Change
	seen := map[string]bool{}
	for _, o := range desc.Certificate.DomainValidationOptions {
		rr := o.ResourceRecord
		if rr == nil || seen[str(rr.Name)] {
			continue
		}
		seen[str(rr.Name)] = true
		changes = append(changes, upsert(plain(str(rr.Name), r53types.RRTypeCname, 300, str(rr.Value))))
	}
	if len(changes) > 0 {
		_, err = r.p.r53.ChangeResourceRecordSets(r.ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
		r.need("publish validation records", err)
	}
	r.p.settle()
	desc, err = r.p.acm.DescribeCertificate(r.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	r.need("describe certificate", err)
	r.record("acm/describe-validated", r.certificate(desc.Certificate), nil)
	return arn
}

// certView is a certificate as compared. The order of the names is not
// documented, so names and validation options are sorted.
type certView struct {
	ARN, Domain, Status, Type string
	SANs                      []string
	Validation                []string
}

func (r *run) certificate(c *acmtypes.CertificateDetail) certView {
	v := certView{ARN: r.arn(str(c.CertificateArn), "cert"), Domain: str(c.DomainName), Status: string(c.Status), Type: string(c.Type), SANs: slices.Sorted(slices.Values(c.SubjectAlternativeNames))}
	for _, o := range c.DomainValidationOptions {
		desc := str(o.DomainName) + " " + string(o.ValidationMethod) + " " + string(o.ValidationStatus)
		if rr := o.ResourceRecord; rr != nil {
			desc += " " + string(rr.Type) + " " + token(str(rr.Name)) + " → " + token(str(rr.Value))
		}
		v.Validation = append(v.Validation, desc)
	}
	slices.Sort(v.Validation)
	return v
}

// token keeps the shape of a validation record name or target and drops
// the labels ACM generates: "_<token>.www.example.com." and
// "_<token>.acm-validations.aws.".
func token(name string) string {
	if rest, ok := strings.CutSuffix(name, ".acm-validations.aws."); ok && strings.HasPrefix(rest, "_") {
		return "_<token>.acm-validations.aws."
	}
	if first, rest, ok := strings.Cut(name, "."); ok && strings.HasPrefix(first, "_") {
		return "_<token>." + rest
	}
	return name
}

// cloudFrontBasics is the distribution life cutover relies on: create with
// aliases and an ACM certificate, read, read the config, update under
// If-Match, and the refusals of a stale or missing ETag and a taken alias.
func cloudFrontBasics(r *run) {
	zone := r.zone("example.com")
	cert := r.issuedCertificate(zone, "www.example.com", "cdn.example.com")
	c := r.p.cf

	created, err := c.CreateDistribution(r.ctx, &cloudfront.CreateDistributionInput{DistributionConfig: distConfig("ref-1", cert, "www.example.com", "cdn.example.com")})
	r.need("create distribution", err)
	id := str(created.Distribution.Id)
	r.record("cf/arn", accountNumber.ReplaceAllString(strings.ReplaceAll(str(created.Distribution.ARN), id, "{id}"), "{account}"), nil)
	r.record("cf/create", map[string]any{
		"dist":     r.dist(created.Distribution),
		"location": strings.Replace(str(created.Location), id, r.id("dist", id), 1),
	}, nil)
	statuses := []string{str(created.Distribution.Status)}
	etags := map[string]string{"create": str(created.ETag)}

	r.p.settle()
	got, err := c.GetDistribution(r.ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
	r.need("get distribution", err)
	r.record("cf/get", map[string]any{"dist": r.dist(got.Distribution), "status": str(got.Distribution.Status)}, nil)
	etags["get"] = str(got.ETag)

	cfg, err := c.GetDistributionConfig(r.ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	r.need("get distribution config", err)
	r.record("cf/get-config", r.config(cfg.DistributionConfig), nil)
	etags["config"] = str(cfg.ETag)

	edited := cfg.DistributionConfig
	edited.Comment = aws.String("moved by cutover")
	edited.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"www.example.com"}}
	_, err = c.UpdateDistribution(r.ctx, &cloudfront.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: edited})
	r.record("cf/update-without-if-match", nil, orAccepted(err))

	upd, err := c.UpdateDistribution(r.ctx, &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: cfg.ETag, DistributionConfig: edited})
	r.need("update distribution", err)
	r.record("cf/update", r.dist(upd.Distribution), nil)
	statuses = append(statuses, str(upd.Distribution.Status))
	etags["update"] = str(upd.ETag)
	r.record("cf/status-at-write", statuses, nil)

	_, err = c.UpdateDistribution(r.ctx, &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: cfg.ETag, DistributionConfig: edited})
	r.record("cf/update-stale-if-match", nil, orAccepted(err))

	after, err := c.GetDistributionConfig(r.ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
	r.need("get distribution config", err)
	r.record("cf/get-config-after-update", r.config(after.DistributionConfig), nil)
	etags["after"] = str(after.ETag)
	r.record("cf/etags", map[string]bool{
		"getMatchesCreate":    etags["get"] == etags["create"],
		"configMatchesGet":    etags["config"] == etags["get"],
		"updateIssuesNew":     etags["update"] != etags["config"],
		"configMatchesUpdate": etags["after"] == etags["update"],
		"allNonEmpty":         etags["create"] != "" && etags["get"] != "" && etags["update"] != "",
	}, nil)

	r.p.settle()
	deployed, err := c.GetDistribution(r.ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
	r.need("get distribution", err)
	r.record("cf/get-after-update", map[string]any{"dist": r.dist(deployed.Distribution), "status": str(deployed.Distribution.Status)}, nil)

	list, err := c.ListDistributions(r.ctx, &cloudfront.ListDistributionsInput{})
	var lv any
	if err == nil && list.DistributionList != nil {
		dl := list.DistributionList
		var items []map[string]any
		for _, s := range dl.Items {
			var aliases []string
			if s.Aliases != nil {
				aliases = s.Aliases.Items
			}
			items = append(items, map[string]any{"id": r.id("dist", str(s.Id)), "arn": r.arn(str(s.ARN), "dist"), "domain": r.id("domain", str(s.DomainName)),
				"aliases": aliases, "comment": str(s.Comment), "enabled": aws.ToBool(s.Enabled)})
		}
		lv = map[string]any{"quantity": aws.ToInt32(dl.Quantity), "truncated": aws.ToBool(dl.IsTruncated), "items": items}
	}
	r.record("cf/list", lv, err)

	_, err = c.GetDistribution(r.ctx, &cloudfront.GetDistributionInput{Id: aws.String("E000000000000Z")})
	r.record("cf/get-unknown", nil, orAccepted(err))

	// Last, since moto accepts it and so keeps a second distribution.
	_, err = c.CreateDistribution(r.ctx, &cloudfront.CreateDistributionInput{DistributionConfig: distConfig("ref-2", cert, "www.example.com")})
	r.record("cf/create-taken-alias", nil, orAccepted(err))
}

// errAccepted stands for a call that was expected to be refused and was
// not, so the observation says so instead of recording null.
type errAccepted struct{}

func (errAccepted) Error() string { return "accepted" }

func orAccepted(err error) error {
	if err == nil {
		return errAccepted{}
	}
	return err
}
