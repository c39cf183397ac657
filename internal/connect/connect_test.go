package connect

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/runbook"
)

// static credentials: nothing here calls AWS, it only builds clients.
func offline(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCONNECTTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
}

func TestEngineOptionsCloudFrontOnlyWhenUsed(t *testing.T) {
	offline(t)
	ctx := context.Background()
	dnsOnly := &runbook.Runbook{Steps: []runbook.Step{{Wait: &runbook.Wait{}}}}
	o, err := EngineOptions(ctx, dnsOnly)
	if err != nil {
		t.Fatal(err)
	}
	if o.Provider == nil || o.Clock == nil {
		t.Fatalf("provider %v, clock %v: want both", o.Provider, o.Clock)
	}
	if o.CDN != nil {
		t.Fatalf("CDN = %T for a runbook without CloudFront steps", o.CDN)
	}

	aliases := &runbook.Runbook{Steps: []runbook.Step{{Aliases: &runbook.Aliases{}}}}
	if o, err = EngineOptions(ctx, aliases); err != nil {
		t.Fatal(err)
	}
	if _, ok := o.CDN.(*cloudfront.Client); !ok {
		t.Fatalf("CDN = %T, want *cloudfront.Client for one account", o.CDN)
	}

	aliases.DistributionRoles = map[string]string{"EOLD": "arn:aws:iam::222222222222:role/old"}
	if o, err = EngineOptions(ctx, aliases); err != nil {
		t.Fatal(err)
	}
	acc, ok := o.CDN.(*cloudfront.Accounts)
	if !ok {
		t.Fatalf("CDN = %T, want *cloudfront.Accounts when a distribution has its own role", o.CDN)
	}
	if acc.For("EOLD") == acc.For("ENEW") {
		t.Fatal("the distribution with its own role is reached with the default client")
	}
}

func TestEngineOptionsGateConfigIsBadInput(t *testing.T) {
	offline(t)
	rb := &runbook.Runbook{Gates: []runbook.Gate{{Name: "p", Kind: "probe", Spec: json.RawMessage(`{"url": ""}`)}}}
	_, err := EngineOptions(context.Background(), rb)
	var ge *GateConfigError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want a *GateConfigError", err)
	}
}

// A runbook whose verify step carries its plan's markers gets a verifier;
// one without (stored before runbooks carried them) pauses at verify, as
// the engine does without one.
func TestEngineOptionsVerifierFromTheRunbook(t *testing.T) {
	offline(t)
	with := &runbook.Runbook{Steps: []runbook.Step{{Verify: &runbook.Verify{Expect: "new", NewMarker: "v2", Resolvers: []string{"127.0.0.1:53"}}}}}
	o, err := EngineOptions(context.Background(), with)
	if err != nil {
		t.Fatal(err)
	}
	if o.Verifier == nil {
		t.Fatal("no verifier for a verify step with markers")
	}
	without := &runbook.Runbook{Steps: []runbook.Step{{Verify: &runbook.Verify{Expect: "new"}}}}
	if o, err = EngineOptions(context.Background(), without); err != nil || o.Verifier != nil {
		t.Fatalf("verifier %v, err %v for a verify step without markers", o.Verifier, err)
	}
}
