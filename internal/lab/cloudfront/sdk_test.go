package cloudfront

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

var (
	idRe     = regexp.MustCompile(`^E[A-Z0-9]{13}$`)
	domainRe = regexp.MustCompile(`^d[a-z0-9]{13}\.cloudfront\.net$`)
)

func TestCreateGetUpdateDeployLifecycle(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out := l.create(t, l.cf, sdkConfig("ref-1", certA, true, "www.example.com"))
	d := out.Distribution
	id := aws.ToString(d.Id)
	if !idRe.MatchString(id) || !domainRe.MatchString(aws.ToString(d.DomainName)) {
		t.Fatalf("ids not AWS-shaped: %s %s", id, aws.ToString(d.DomainName))
	}
	if aws.ToString(d.Status) != "InProgress" || aws.ToString(out.ETag) == "" {
		t.Fatalf("new distribution: status %s etag %q", aws.ToString(d.Status), aws.ToString(out.ETag))
	}
	if aws.ToString(out.Location) != "https://cloudfront.amazonaws.com/2020-05-31/distribution/"+id {
		t.Fatalf("Location = %q", aws.ToString(out.Location))
	}
	if aws.ToString(d.ARN) != "arn:aws:cloudfront::111111111111:distribution/"+id {
		t.Fatalf("ARN = %q", aws.ToString(d.ARN))
	}
	// Members the lab does not reason about come back as they were sent.
	if d.DistributionConfig.PriceClass != types.PriceClassPriceClass100 ||
		aws.ToString(d.DistributionConfig.DefaultCacheBehavior.CachePolicyId) != "658327ea-f89d-4fab-a63d-7e88639e58f6" ||
		d.DistributionConfig.ViewerCertificate.MinimumProtocolVersion != types.MinimumProtocolVersionTLSv122021 {
		t.Fatalf("config not round-tripped: %+v", d.DistributionConfig)
	}

	l.clock.Advance(DefaultDeployDelay - time.Millisecond)
	got, err := l.cf.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(id)})
	if err != nil || aws.ToString(got.Distribution.Status) != "InProgress" {
		t.Fatalf("before the delay: %v %v", err, got)
	}
	l.clock.Advance(time.Millisecond)
	got, err = l.cf.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(id)})
	if err != nil || aws.ToString(got.Distribution.Status) != "Deployed" {
		t.Fatalf("after the delay: %v %+v", err, got)
	}
	if aws.ToString(got.ETag) != aws.ToString(out.ETag) {
		t.Fatalf("ETag changed without a write")
	}

	// Missing and stale If-Match are refused and change nothing.
	cfg, etag := l.getConfig(t, l.cf, id)
	cfg.Comment = aws.String("changed")
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), DistributionConfig: cfg})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400, "The If-Match version is missing or not valid for the resource.")
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: aws.String("ESTALE0000000"), DistributionConfig: cfg})
	wantAPIError(t, err, "PreconditionFailed", 412, "The request failed because it didn't meet the preconditions in one or more request-header fields.")
	if n := len(l.env.History.List(awsapi.Filter{Service: "cloudfront"})); n != 1 {
		t.Fatalf("rejected updates were recorded: %d entries", n)
	}

	upd, err := l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag), DistributionConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(upd.ETag) == etag || aws.ToString(upd.Distribution.Status) != "InProgress" || aws.ToString(upd.Distribution.DistributionConfig.Comment) != "changed" {
		t.Fatalf("update: etag %s→%s status %s", etag, aws.ToString(upd.ETag), aws.ToString(upd.Distribution.Status))
	}
	// The old ETag is now stale.
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag), DistributionConfig: cfg})
	wantAPIError(t, err, "PreconditionFailed", 412, "")

	// A full replacement: CallerReference is immutable.
	cfg.CallerReference = aws.String("other")
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: upd.ETag, DistributionConfig: cfg})
	wantAPIError(t, err, "IllegalUpdate", 400, "")

	v, ok := l.svc.Get(id)
	if !ok || v.Version != 2 || v.Comment != "changed" || v.Status != "InProgress" {
		t.Fatalf("view after update: %+v", v)
	}

	// Another account does not see the distribution.
	_, err = l.cfB.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(id)})
	wantAPIError(t, err, "NoSuchDistribution", 404, "The specified distribution does not exist.")
}

func TestCreateIsIdempotentOnCallerReference(t *testing.T) {
	l := newLab(t)
	a := l.create(t, l.cf, sdkConfig("same", "", true))
	b := l.create(t, l.cf, sdkConfig("same", "", true))
	if aws.ToString(a.Distribution.Id) != aws.ToString(b.Distribution.Id) {
		t.Fatalf("same request created two distributions")
	}
	c := sdkConfig("same", "", false)
	_, err := l.cf.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: c})
	wantAPIError(t, err, "DistributionAlreadyExists", 409, "")
}

func TestListDistributionsPaginates(t *testing.T) {
	l := newLab(t)
	var ids []string
	for i := range 3 {
		ids = append(ids, aws.ToString(l.create(t, l.cf, sdkConfig(fmt.Sprint("p", i), "", true)).Distribution.Id))
	}
	l.create(t, l.cfB, sdkConfig("other-account", "", true))
	var seen []string
	p := cf.NewListDistributionsPaginator(l.cf, &cf.ListDistributionsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range out.DistributionList.Items {
			seen = append(seen, aws.ToString(s.Id))
			if aws.ToString(s.DomainName) == "" || s.Staging == nil || aws.ToString(s.Status) != "InProgress" {
				t.Fatalf("summary incomplete: %+v", s)
			}
		}
	}
	if pages != 2 || !slices.Equal(seen, ids) {
		t.Fatalf("pages %d, ids %v, want %v", pages, seen, ids)
	}
	_, err := l.cf.ListDistributions(context.Background(), &cf.ListDistributionsInput{MaxItems: aws.Int32(0)})
	wantAPIError(t, err, "InvalidArgument", 400, "")
}

// TestSeed003CNAMEAlreadyExists reproduces seed 003: a second distribution
// cannot take www.domain.com, in the same or another account, while a
// wildcard *.domain.com may overlap it.
func TestSeed003CNAMEAlreadyExists(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	l.create(t, l.cf, sdkConfig("dist-a", certDomain, true, "www.domain.com"))
	before := len(l.env.History.List(awsapi.Filter{}))
	_, err := l.cf.CreateDistribution(ctx, &cf.CreateDistributionInput{DistributionConfig: sdkConfig("dist-b", certDomain, true, "www.domain.com")})
	wantAPIError(t, err, "CNAMEAlreadyExists", 409, "One or more of the CNAMEs you provided are already associated with a different resource.")
	_, err = l.cfB.CreateDistribution(ctx, &cf.CreateDistributionInput{DistributionConfig: sdkConfig("dist-b", certDomainB, true, "www.domain.com")})
	wantAPIError(t, err, "CNAMEAlreadyExists", 409, "")
	if after := len(l.env.History.List(awsapi.Filter{})); after != before {
		t.Fatalf("rejected creates were recorded")
	}
	// The wildcard trick from the seed works, across accounts too.
	l.create(t, l.cfB, sdkConfig("dist-b-wild", certDomainB, true, "*.domain.com"))
	// But the same wildcard twice is a conflict.
	_, err = l.cf.CreateDistribution(ctx, &cf.CreateDistributionInput{DistributionConfig: sdkConfig("dist-c", certDomain, true, "*.domain.com")})
	wantAPIError(t, err, "CNAMEAlreadyExists", 409, "")
	// Updating a distribution to take a held alias is refused the same way.
	c := l.create(t, l.cf, sdkConfig("dist-d", certDomain, true, "api.domain.com"))
	cfg, etag := l.getConfig(t, l.cf, aws.ToString(c.Distribution.Id))
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(2), Items: []string{"api.domain.com", "www.domain.com"}}
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: c.Distribution.Id, IfMatch: aws.String(etag), DistributionConfig: cfg})
	wantAPIError(t, err, "CNAMEAlreadyExists", 409, "")
}

func TestAliasValidation(t *testing.T) {
	l := newLab(t)
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("h%d.example.com", i)
	}
	cases := []struct {
		name    string
		cert    string
		aliases []string
		code    string
		msg     string
	}{
		{"uppercase", certA, []string{"WWW.example.com"}, "InvalidArgument", ""},
		{"wildcard inside a label", certA, []string{"*x.example.com"}, "InvalidArgument", ""},
		{"wildcard in the middle", certA, []string{"a.*.example.com"}, "InvalidArgument", ""},
		{"wildcard on a TLD", certA, []string{"*.com"}, "InvalidArgument", ""},
		{"no certificate", "", []string{"www.example.com"}, "InvalidViewerCertificate", msgNeedCert},
		{"cert wildcard covers one label only", certA, []string{"a.b.example.com"}, "InvalidViewerCertificate", msgNeedCert},
		{"cert not covering", certA, []string{"www.other.org"}, "InvalidViewerCertificate", msgNeedCert},
		{"pending certificate", certPending, []string{"www.example.com"}, "InvalidViewerCertificate", msgBadCert},
		{"certificate of another account", certB, []string{"www.example.com"}, "InvalidViewerCertificate", msgBadCert},
		{"unknown certificate", "arn:aws:acm:us-east-1:111111111111:certificate/none", nil, "InvalidViewerCertificate", msgBadCert},
		{"too many", certA, many, "TooManyDistributionCNAMEs", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := l.cf.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: sdkConfig(fmt.Sprint("v", i), c.cert, true, c.aliases...)})
			wantAPIError(t, err, c.code, 400, c.msg)
		})
	}
	// Quantity must agree with Items in every list.
	bad := sdkConfig("q", certA, true, "www.example.com")
	bad.Aliases.Quantity = aws.Int32(2)
	_, err := l.cf.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: bad})
	wantAPIError(t, err, "InconsistentQuantities", 400, "The value of Quantity and the size of Items don't match.")
	bad = sdkConfig("q2", "", true)
	bad.CustomErrorResponses = &types.CustomErrorResponses{Quantity: aws.Int32(1)}
	_, err = l.cf.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: bad})
	wantAPIError(t, err, "InconsistentQuantities", 400, "")
	bad = sdkConfig("q3", "", true)
	bad.DefaultCacheBehavior.TargetOriginId = aws.String("nope")
	_, err = l.cf.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: bad})
	wantAPIError(t, err, "NoSuchOrigin", 404, "")
	// Apex plus wildcard from the same certificate is fine.
	l.create(t, l.cf, sdkConfig("ok", certA, true, "example.com", "*.example.com"))
	if n := len(l.svc.List()); n != 1 {
		t.Fatalf("want exactly the valid distribution, have %d", n)
	}
}

func TestDeleteDistributionNeedsDisabledAndDeployed(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out := l.create(t, l.cf, sdkConfig("del", "", true))
	id := out.Distribution.Id
	_, err := l.cf.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: id})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400, "")
	l.clock.Advance(time.Minute)
	_, err = l.cf.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: id, IfMatch: out.ETag})
	wantAPIError(t, err, "DistributionNotDisabled", 409, "The distribution you are trying to delete has not been disabled.")
	upd := l.update(t, l.cf, aws.ToString(id), func(c *types.DistributionConfig) { c.Enabled = aws.Bool(false) })
	_, err = l.cf.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: id, IfMatch: out.ETag})
	wantAPIError(t, err, "PreconditionFailed", 412, "")
	// Disabled but still InProgress: not yet.
	_, err = l.cf.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: id, IfMatch: upd.ETag})
	wantAPIError(t, err, "DistributionNotDisabled", 409, "")
	l.clock.Advance(DefaultDeployDelay)
	if _, err = l.cf.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: id, IfMatch: upd.ETag}); err != nil {
		t.Fatal(err)
	}
	_, err = l.cf.GetDistribution(ctx, &cf.GetDistributionInput{Id: id})
	wantAPIError(t, err, "NoSuchDistribution", 404, "")
	ops := historyOps(l.env)
	if want := []string{"CreateDistribution " + *id, "UpdateDistribution " + *id, "DeleteDistribution " + *id}; !slices.Equal(ops, want) {
		t.Fatalf("history %v, want %v", ops, want)
	}
}

func TestAssociateAlias(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	src := l.create(t, l.cf, sdkConfig("src", certA, true, "www.example.com", "api.example.com"))
	dst := l.create(t, l.cf, sdkConfig("dst", certA, true))
	srcID, dstID := aws.ToString(src.Distribution.Id), aws.ToString(dst.Distribution.Id)
	l.clock.Advance(time.Minute)

	assoc := func(c *cf.Client, target, alias string) error {
		_, err := c.AssociateAlias(ctx, &cf.AssociateAliasInput{TargetDistributionId: aws.String(target), Alias: aws.String(alias)})
		return err
	}
	// No TXT proof yet.
	wantAPIError(t, assoc(l.cf, dstID, "www.example.com"), "IllegalUpdate", 400, "Invalid or missing alias DNS TXT records.")
	// A proof naming another distribution does not count.
	l.dns.set("_www.example.com", `"`+aws.ToString(src.Distribution.DomainName)+`"`)
	wantAPIError(t, assoc(l.cf, dstID, "www.example.com"), "IllegalUpdate", 400, "Invalid or missing alias DNS TXT records.")
	// A certificate must cover the alias.
	wantAPIError(t, assoc(l.cf, dstID, "a.b.example.com"), "InvalidArgument", 400, "")
	wantAPIError(t, assoc(l.cf, "EDOESNOTEXIST1", "www.example.com"), "NoSuchDistribution", 404, "")

	l.dns.set("_www.example.com", `"`+aws.ToString(dst.Distribution.DomainName)+`"`)
	// Same account: the source may stay enabled.
	if err := assoc(l.cf, dstID, "www.example.com"); err != nil {
		t.Fatal(err)
	}
	s, _ := l.svc.Get(srcID)
	d, _ := l.svc.Get(dstID)
	if !slices.Equal(s.Aliases, []string{"api.example.com"}) || !slices.Equal(d.Aliases, []string{"www.example.com"}) {
		t.Fatalf("alias not moved: src %v dst %v", s.Aliases, d.Aliases)
	}
	if s.Status != "InProgress" || d.Status != "InProgress" || s.ETag == aws.ToString(src.ETag) || d.ETag == aws.ToString(dst.ETag) {
		t.Fatalf("both distributions must change: %+v %+v", s, d)
	}
	// Get reflects the move in the config, too.
	cfgSrc, _ := l.getConfig(t, l.cf, srcID)
	if aws.ToInt32(cfgSrc.Aliases.Quantity) != 1 || cfgSrc.Aliases.Items[0] != "api.example.com" {
		t.Fatalf("source config aliases %+v", cfgSrc.Aliases)
	}
	ops := historyOps(l.env)
	if want := []string{"AssociateAlias " + srcID, "AssociateAlias " + dstID}; !slices.Equal(ops[len(ops)-2:], want) {
		t.Fatalf("history %v", ops)
	}
}

func TestAssociateAliasAcrossAccountsNeedsDisabledSource(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	src := l.create(t, l.cfB, sdkConfig("src", certB, true, "www.example.com"))
	dst := l.create(t, l.cf, sdkConfig("dst", certA, true))
	l.dns.set("_www.example.com", aws.ToString(dst.Distribution.DomainName))
	in := &cf.AssociateAliasInput{TargetDistributionId: dst.Distribution.Id, Alias: aws.String("www.example.com")}
	_, err := l.cf.AssociateAlias(ctx, in)
	wantAPIError(t, err, "IllegalUpdate", 400, "Alias move is not allowed since the source distribution is enabled.")
	if v, _ := l.svc.Get(aws.ToString(src.Distribution.Id)); len(v.Aliases) != 1 {
		t.Fatalf("refused move changed the source: %v", v.Aliases)
	}
	l.update(t, l.cfB, aws.ToString(src.Distribution.Id), func(c *types.DistributionConfig) { c.Enabled = aws.Bool(false) })
	if _, err := l.cf.AssociateAlias(ctx, in); err != nil {
		t.Fatal(err)
	}
	s, _ := l.svc.Get(aws.ToString(src.Distribution.Id))
	d, _ := l.svc.Get(aws.ToString(dst.Distribution.Id))
	if len(s.Aliases) != 0 || !slices.Equal(d.Aliases, []string{"www.example.com"}) || s.Version != 3 || d.Version != 2 {
		t.Fatalf("after move: src %+v dst %+v", s, d)
	}
	// The source account sees its distribution changed, under the caller's name.
	h := l.env.History.List(awsapi.Filter{Resource: s.ARN})
	if last := h[len(h)-1]; last.Operation != "AssociateAlias" || last.Account != awsapi.DefaultAccountID {
		t.Fatalf("source history %+v", last)
	}
}

func TestListConflictingAliases(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	mine := l.create(t, l.cf, sdkConfig("mine", certA, true, "api.example.com"))
	theirs := l.create(t, l.cfB, sdkConfig("theirs", certB, true, "www.example.com", "*.example.com"))
	myID, theirID := aws.ToString(mine.Distribution.Id), aws.ToString(theirs.Distribution.Id)
	masked := "******" + theirID[len(theirID)-7:]

	out, err := l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(myID), Alias: aws.String("www.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	got := out.ConflictingAliasesList
	if aws.ToInt32(got.Quantity) != 2 || len(got.Items) != 2 {
		t.Fatalf("want the exact holder and the covering wildcard, got %+v", got.Items)
	}
	for _, it := range got.Items {
		if aws.ToString(it.DistributionId) != masked || aws.ToString(it.AccountId) != "********2222" {
			t.Fatalf("other account's ids not masked: %s %s", aws.ToString(it.DistributionId), aws.ToString(it.AccountId))
		}
	}
	if aws.ToString(got.Items[0].Alias) != "*.example.com" || aws.ToString(got.Items[1].Alias) != "www.example.com" {
		t.Fatalf("aliases %s %s", aws.ToString(got.Items[0].Alias), aws.ToString(got.Items[1].Alias))
	}

	// A wildcard lists itself and every name it covers; own ids are clear.
	out, err = l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(myID), Alias: aws.String("*.example.com"), MaxItems: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	got = out.ConflictingAliasesList
	if aws.ToInt32(got.Quantity) != 2 || aws.ToString(got.NextMarker) == "" || aws.ToString(got.Items[1].DistributionId) != myID || aws.ToString(got.Items[1].AccountId) != awsapi.DefaultAccountID {
		t.Fatalf("first page %+v", got)
	}
	out, err = l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(myID), Alias: aws.String("*.example.com"), MaxItems: aws.Int32(2), Marker: got.NextMarker})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.ConflictingAliasesList.Quantity) != 1 || aws.ToString(out.ConflictingAliasesList.Items[0].Alias) != "www.example.com" || out.ConflictingAliasesList.NextMarker != nil {
		t.Fatalf("second page %+v", out.ConflictingAliasesList)
	}

	_, err = l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(myID), Alias: aws.String("www.other.org")})
	wantAPIError(t, err, "InvalidArgument", 400, "")
	_, err = l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(theirID), Alias: aws.String("www.example.com")})
	wantAPIError(t, err, "NoSuchDistribution", 404, "")
	_, err = l.cf.ListConflictingAliases(ctx, &cf.ListConflictingAliasesInput{DistributionId: aws.String(myID), Alias: aws.String("www.example.com"), MaxItems: aws.Int32(101)})
	wantAPIError(t, err, "InvalidArgument", 400, "")
}

func TestCreateDistributionWithTags(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out, err := l.cf.CreateDistributionWithTags(ctx, &cf.CreateDistributionWithTagsInput{DistributionConfigWithTags: &types.DistributionConfigWithTags{
		DistributionConfig: sdkConfig("tagged", certA, true, "www.example.com"),
		Tags:               &types.Tags{Items: []types.Tag{{Key: aws.String("owner"), Value: aws.String("edge")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.ETag) == "" || aws.ToString(out.Location) == "" || out.Distribution.DistributionConfig.Aliases.Items[0] != "www.example.com" {
		t.Fatalf("create with tags: %+v", out)
	}
	ops := historyOps(l.env)
	if len(ops) != 1 || ops[0] != "CreateDistributionWithTags "+aws.ToString(out.Distribution.Id) {
		t.Fatalf("history %v", ops)
	}
	_, err = l.cf.CreateDistributionWithTags(ctx, &cf.CreateDistributionWithTagsInput{DistributionConfigWithTags: &types.DistributionConfigWithTags{
		DistributionConfig: sdkConfig("tagged-2", certA, true, "www.example.com"), Tags: &types.Tags{},
	}})
	wantAPIError(t, err, "CNAMEAlreadyExists", 409, "")
}
