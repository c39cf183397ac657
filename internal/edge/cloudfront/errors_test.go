package cloudfront

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/edge/cdn"
)

// CloudFront's refusals reach callers as package cdn's sentinels, with the
// API error (its code, its message) still in the chain.
func TestAPIErrorsBecomeSentinels(t *testing.T) {
	w := newWorld(t, "", -1)
	ctx := context.Background()

	_, err := w.client.Distribution(ctx, "ENOSUCH")
	if !errors.Is(err, cdn.ErrNotFound) || errorCode(err) != "NoSuchDistribution" || !strings.Contains(err.Error(), "reading distribution ENOSUCH") {
		t.Fatalf("missing distribution: %v", err)
	}
	if strings.Contains(err.Error(), cdn.ErrNotFound.Error()) {
		t.Fatalf("the sentinel changed the message: %v", err)
	}
	if err := w.client.UpdatePolicy(ctx, "ENOSUCHPOLICY", Traffic{Weight: 0.05}, true); !errors.Is(err, cdn.ErrNotFound) || errorCode(err) != "NoSuchContinuousDeploymentPolicy" {
		t.Fatalf("missing policy: %v", err)
	}
	if _, err := w.client.WatchAlias(ctx, "ENOSUCH", "www.example.com", WatchOptions{Timeout: time.Hour}); !errors.Is(err, cdn.ErrNotFound) {
		t.Fatalf("watching a missing distribution: %v", err)
	}

	st, err := w.client.CopyToStaging(ctx, w.old(), "stage-ref")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.CopyToStaging(ctx, w.old(), "stage-ref"); !errors.Is(err, cdn.ErrCallerRefUsed) || errorCode(err) != "DistributionAlreadyExists" {
		t.Fatalf("second copy with the same caller reference: %v", err)
	}
	if _, _, err := w.client.CreatePolicy(ctx, st.DomainName, Traffic{Weight: 0.05}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.client.CreatePolicy(ctx, st.DomainName, Traffic{Weight: 0.05}); !errors.Is(err, cdn.ErrStagingInUse) || errorCode(err) != "StagingDistributionInUse" {
		t.Fatalf("second policy for one staging distribution: %v", err)
	}

	_, err = w.client.UpdateAliases(ctx, w.new(), []string{"www.example.com"}, nil)
	var conflict *AliasConflictError
	if !errors.Is(err, cdn.ErrAliasTaken) || !errors.As(err, &conflict) {
		t.Fatalf("alias held elsewhere: %v", err)
	}
	if errors.Is(err, cdn.ErrNotFound) || errors.Is(err, cdn.ErrCallerRefUsed) {
		t.Fatalf("one refusal, two meanings: %v", err)
	}
}

func TestSentinelForCodes(t *testing.T) {
	for code, want := range map[string]error{
		"NoSuchDistribution":               cdn.ErrNotFound,
		"NoSuchContinuousDeploymentPolicy": cdn.ErrNotFound,
		"NoSuchOrigin":                     cdn.ErrNotFound,
		"DistributionAlreadyExists":        cdn.ErrCallerRefUsed,
		"StagingDistributionInUse":         cdn.ErrStagingInUse,
		"CNAMEAlreadyExists":               cdn.ErrAliasTaken,
		"PreconditionFailed":               nil,
		"Throttling":                       nil,
		"":                                 nil,
	} {
		if got := sentinelFor(code); got != want {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
	}
	if translate(nil) != nil {
		t.Error("translate(nil) is not nil")
	}
}
