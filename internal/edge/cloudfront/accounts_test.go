package cloudfront

import (
	"context"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// otherClient is a Client with the credentials of the lab's second account.
func (w *world) otherClient() *Client {
	cfg := awstest.ConfigAs(w.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "")
	return New(cfg, Options{Clock: w.clock, Limiter: NewLimiter(DefaultRequestsPerSecond, DefaultBurst, w.clock), Rand: func() float64 { return 1 }})
}

// accountOf is the account that made the last change op to distribution id.
func (w *world) accountOf(t *testing.T, op, id string) string {
	t.Helper()
	h := w.history(op)
	for i := len(h) - 1; i >= 0; i-- {
		if strings.HasSuffix(h[i].Resource, "/"+id) {
			return h[i].Account
		}
	}
	t.Fatalf("no %s of %s in the lab's history", op, id)
	return ""
}

func TestAccountsRouteByDistribution(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	other := w.seeded.Distributions["other"].ID
	a := NewAccounts(w.client, map[string]*Client{other: w.otherClient()})

	if a.For(other) == w.client || a.For(w.old()) != w.client || a.For("EUNLISTED") != w.client {
		t.Fatal("For does not pick the listed account's client, the default otherwise")
	}
	// The default account cannot read the other account's distribution;
	// Accounts reaches it with its own.
	if _, err := w.client.Distribution(ctx, other); err == nil {
		t.Fatal("the default account reads the other account's distribution: the test proves nothing")
	}
	if d, err := a.Distribution(ctx, other); err != nil || !d.HasAlias("shop.example.com") {
		t.Fatalf("other account's distribution: %+v %v", d, err)
	}
	if d, err := a.Distribution(ctx, w.old()); err != nil || !d.HasAlias("www.example.com") {
		t.Fatalf("default account's distribution: %+v %v", d, err)
	}

	if _, err := a.UpdateAliases(ctx, other, []string{"cart.example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.accountOf(t, "UpdateDistribution", other); got != awsapi.OtherAccountID {
		t.Fatalf("other distribution updated by account %s", got)
	}
	if _, err := a.UpdateAliases(ctx, w.new(), []string{"api.example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.accountOf(t, "UpdateDistribution", w.new()); got != awsapi.DefaultAccountID {
		t.Fatalf("default distribution updated by account %s", got)
	}
}

// The engine finds continuous deployment by type assertion: Accounts must
// not hide it.
func TestAccountsKeepContinuousDeployment(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()
	other := w.seeded.Distributions["other"].ID
	var edge any = NewAccounts(w.client, map[string]*Client{other: w.otherClient()})
	staging, ok := edge.(interface {
		Distribution(ctx context.Context, id string) (cdn.Distribution, error)
		CopyToStaging(ctx context.Context, primaryID, callerRef string) (cdn.Distribution, error)
		CreatePolicy(ctx context.Context, stagingDomain string, t cdn.Traffic) (id, etag string, err error)
		AttachPolicy(ctx context.Context, primaryID, policyID string) (cdn.Distribution, error)
		UpdatePolicy(ctx context.Context, policyID string, t cdn.Traffic, enabled bool) error
		Promote(ctx context.Context, primaryID, stagingID string) (cdn.Distribution, error)
		Abort(ctx context.Context, primaryID, stagingID, policyID string) error
	})
	if !ok {
		t.Fatal("Accounts hides the continuous deployment calls")
	}

	st, err := staging.CopyToStaging(ctx, w.old(), "accounts-1")
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := staging.CreatePolicy(ctx, st.DomainName, Traffic{Weight: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := staging.AttachPolicy(ctx, w.old(), id); err != nil {
		t.Fatal(err)
	}
	if err := staging.UpdatePolicy(ctx, id, Traffic{Weight: 0.1}, true); err != nil {
		t.Fatal(err)
	}
	if err := staging.Abort(ctx, w.old(), st.ID, id); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.lab.CloudFront.Get(st.ID); ok {
		t.Fatal("staging distribution still exists after abort")
	}

	// A copy of the other account's distribution is made by that account.
	st2, err := staging.CopyToStaging(ctx, other, "accounts-2")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.accountOf(t, "CopyDistribution", st2.ID); got != awsapi.OtherAccountID {
		t.Fatalf("copy of the other account's distribution made by account %s", got)
	}
}
