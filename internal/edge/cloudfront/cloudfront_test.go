package cloudfront

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

func TestDistributionReadsEveryField(t *testing.T) {
	w := newWorld(t, "", time.Minute)
	ctx := context.Background()
	d, err := w.client.Distribution(ctx, w.old())
	if err != nil {
		t.Fatal(err)
	}
	want := w.seeded.Distributions["old"]
	if d.ID != want.ID || d.ARN != want.ARN || d.DomainName != want.DomainName || !d.Enabled ||
		!slices.Equal(d.Aliases, []string{"www.example.com"}) || d.CertificateARN != w.seeded.Certificates["cert"] ||
		d.ETag != want.ETag || d.Staging || d.PolicyID != "" || d.Status != StatusInProgress || !d.LastModified.Equal(w.clock.Now()) {
		t.Fatalf("distribution %+v\nlab view %+v", d, want)
	}
	if !d.HasAlias("WWW.example.com.") || d.HasAlias("api.example.com") {
		t.Fatal("HasAlias does not normalise or matches too much")
	}
	if _, err := w.client.Distribution(ctx, "ENOSUCH"); errorCode(err) != "NoSuchDistribution" || !strings.Contains(err.Error(), "reading distribution ENOSUCH") {
		t.Fatalf("missing distribution: %v", err)
	}
}

func TestUpdateAliasesAddsRemovesAndSkipsNoops(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	before, _ := w.client.Distribution(ctx, w.new())
	d, err := w.client.UpdateAliases(ctx, w.new(), []string{"API.example.com.", "static.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Aliases, []string{"api.example.com", "static.example.com"}) || d.ETag == before.ETag || d.ETag == "" {
		t.Fatalf("after add: %+v (etag before %s)", d, before.ETag)
	}
	// The whole config went back: the origin the seed set is still there.
	if v, _ := w.lab.CloudFront.Get(w.new()); len(v.Origins) != 1 || v.Origins[0].DomainName != "new.example.net" {
		t.Fatalf("origins lost by the update: %+v", v.Origins)
	}
	d, err = w.client.UpdateAliases(ctx, w.new(), nil, []string{"api.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Aliases, []string{"static.example.com"}) {
		t.Fatalf("after remove: %v", d.Aliases)
	}
	writes := len(w.history("UpdateDistribution"))
	if _, err := w.client.UpdateAliases(ctx, w.new(), []string{"static.example.com"}, []string{"gone.example.com"}); err != nil {
		t.Fatal(err)
	}
	if n := len(w.history("UpdateDistribution")); n != writes {
		t.Fatalf("a no-op alias edit wrote the distribution (%d → %d writes)", writes, n)
	}
}

// racingAPI lets a test act between the adapter's read and its write.
type racingAPI struct {
	api
	beforeUpdate func(n int)
	updates      int
	lists        int
}

func (r *racingAPI) UpdateDistribution(ctx context.Context, in *cf.UpdateDistributionInput, opts ...func(*cf.Options)) (*cf.UpdateDistributionOutput, error) {
	r.updates++
	if r.beforeUpdate != nil {
		r.beforeUpdate(r.updates)
	}
	return r.api.UpdateDistribution(ctx, in, opts...)
}

func (r *racingAPI) ListConflictingAliases(ctx context.Context, in *cf.ListConflictingAliasesInput, opts ...func(*cf.Options)) (*cf.ListConflictingAliasesOutput, error) {
	r.lists++
	return r.api.ListConflictingAliases(ctx, in, opts...)
}

func TestUpdateAliasesRereadsAfterStaleETag(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	race := &racingAPI{api: w.client.api}
	race.beforeUpdate = func(n int) {
		if n != 1 {
			return
		}
		// Another writer edits the comment between our read and write.
		out, err := w.raw.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(w.new())})
		if err != nil {
			t.Fatal(err)
		}
		out.DistributionConfig.Comment = aws.String("edited meanwhile")
		if _, err := w.raw.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(w.new()), IfMatch: out.ETag, DistributionConfig: out.DistributionConfig}); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(race, w.client.opts)
	d, err := c.UpdateAliases(ctx, w.new(), []string{"api.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if race.updates != 2 || !slices.Equal(d.Aliases, []string{"api.example.com"}) {
		t.Fatalf("%d updates, aliases %v", race.updates, d.Aliases)
	}
	if v, _ := w.lab.CloudFront.Get(w.new()); v.Comment != "edited meanwhile" {
		t.Fatalf("the retry clobbered the other writer's edit: comment %q", v.Comment)
	}

	// A writer that never stops racing exhausts the bounded retries.
	race.updates = 0
	race.beforeUpdate = func(int) {
		out, _ := w.raw.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(w.new())})
		out.DistributionConfig.Comment = aws.String(time.Now().String())
		_, _ = w.raw.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(w.new()), IfMatch: out.ETag, DistributionConfig: out.DistributionConfig})
	}
	_, err = c.UpdateAliases(ctx, w.new(), []string{"more.example.com"}, nil)
	if errorCode(err) != "PreconditionFailed" || race.updates != DefaultMaxAttempts {
		t.Fatalf("endless race: %d updates, err %v", race.updates, err)
	}
}

func TestUpdateAliasesNamesTheHolder(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	_, err := w.client.UpdateAliases(ctx, w.new(), []string{"www.example.com"}, nil)
	var conflict *AliasConflictError
	if !errors.As(err, &conflict) || !errors.Is(err, ErrAliasTaken) || errorCode(err) != "CNAMEAlreadyExists" {
		t.Fatalf("want an alias conflict, got %v", err)
	}
	if conflict.Alias != "www.example.com" || conflict.HolderDistribution != w.old() || conflict.HolderAccount != awsapi.DefaultAccountID {
		t.Fatalf("conflict %+v", conflict)
	}
	// Another account's holder is named as CloudFront shows it: masked.
	_, err = w.client.UpdateAliases(ctx, w.new(), []string{"shop.example.com"}, nil)
	if !errors.As(err, &conflict) {
		t.Fatalf("want an alias conflict, got %v", err)
	}
	other := w.seeded.Distributions["other"].ID
	if !strings.HasPrefix(conflict.HolderDistribution, "******") || !strings.HasSuffix(other, strings.TrimLeft(conflict.HolderDistribution, "*")) ||
		!strings.HasPrefix(conflict.HolderAccount, "*") || !strings.HasSuffix("222222222222", strings.TrimLeft(conflict.HolderAccount, "*")) {
		t.Fatalf("cross-account holder %+v (real id %s)", conflict, other)
	}
	if !strings.Contains(err.Error(), "alias shop.example.com is already on distribution ******") {
		t.Fatalf("message: %v", err)
	}
}

func TestConflictsFollowsPages(t *testing.T) {
	w := newWorld(t, aliasesSeed("many", 70)+aliasesSeed("more", 70), -1)
	race := &racingAPI{api: w.client.api}
	c := newClient(race, w.client.opts)
	list, err := c.Conflicts(context.Background(), w.new(), "*.example.com")
	if err != nil {
		t.Fatal(err)
	}
	// 140 seeded names, www and the other account's shop.
	if len(list) != 142 || race.lists != 2 {
		t.Fatalf("%d conflicts over %d pages", len(list), race.lists)
	}
	var sawWWW bool
	for _, x := range list {
		if x.Alias == "www.example.com" {
			sawWWW = x.DistributionID == w.old() && x.AccountID == awsapi.DefaultAccountID
		}
	}
	if !sawWWW {
		t.Fatal("www.example.com's holder missing or wrong")
	}
}

func TestAssociateAliasNeedsItsProof(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	err := w.client.AssociateAlias(ctx, w.new(), "www.example.com")
	if errorCode(err) != "IllegalUpdate" {
		t.Fatalf("without the TXT proof: %v", err)
	}
	rec := w.prove(t, "www.example.com", w.new())
	if rec.Name != "_www.example.com." || rec.Type != "TXT" || len(rec.Values) != 1 || rec.Values[0] != `"`+w.seeded.Distributions["new"].DomainName+`"` {
		t.Fatalf("proof record %s", rec)
	}
	if err := w.client.AssociateAlias(ctx, w.new(), "WWW.example.com."); err != nil {
		t.Fatal(err)
	}
	n, _ := w.client.Distribution(ctx, w.new())
	o, _ := w.client.Distribution(ctx, w.old())
	if !n.HasAlias("www.example.com") || o.HasAlias("www.example.com") {
		t.Fatalf("after the move: new %v, old %v", n.Aliases, o.Aliases)
	}
}

func TestProofRecordForAWildcard(t *testing.T) {
	rec := ProofRecord("*.Example.com.", "D123.cloudfront.net.")
	if rec.Name != "_example.com." || rec.Values[0] != `"d123.cloudfront.net"` || rec.TTL != ProofTTL {
		t.Fatalf("wildcard proof %s", rec)
	}
}

func TestWaitDeployedOnTheInjectedClock(t *testing.T) {
	w := newWorld(t, "", 5*time.Minute)
	ctx := context.Background()
	start := w.clock.Now()
	d, err := w.client.UpdateAliases(ctx, w.new(), []string{"api.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != StatusInProgress {
		t.Fatalf("status right after an update: %s", d.Status)
	}
	reqs := w.cfRequests.Load()
	d, err = w.client.WaitDeployed(ctx, w.new(), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waited := w.clock.Now().Sub(start)
	if !d.Deployed() || waited < 5*time.Minute || waited > 5*time.Minute+30*time.Second {
		t.Fatalf("deployed=%v after %s", d.Deployed(), waited)
	}
	if polls := w.cfRequests.Load() - reqs; polls != 11 {
		t.Fatalf("%d polls for 5 minutes at 30 s", polls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.client.WaitDeployed(cctx, w.new(), time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestCallsRetryThrottlingThenGiveUp(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	w.throttle.Store(2)
	start := w.clock.Now()
	if _, err := w.client.Distribution(ctx, w.old()); err != nil {
		t.Fatalf("two throttles then success: %v", err)
	}
	// Full jitter pinned to its ceiling: 250 ms, then 500 ms.
	if slept := w.clock.Now().Sub(start); slept < 750*time.Millisecond {
		t.Fatalf("retried after %s of backoff", slept)
	}
	w.throttle.Store(100)
	_, err := w.client.Distribution(ctx, w.old())
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "Throttling" || !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Fatalf("endless throttling: %v", err)
	}
	w.throttle.Store(0)
}

func TestLimiterHoldsTheBudget(t *testing.T) {
	clock := newFakeClock()
	l := NewLimiter(5, 5, clock)
	start := clock.Now()
	for range 15 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// A burst of 5, then 10 more at 5/s.
	if got := clock.Now().Sub(start); got < 2*time.Second-time.Millisecond || got > 2*time.Second+time.Millisecond {
		t.Fatalf("15 tokens took %s", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}
