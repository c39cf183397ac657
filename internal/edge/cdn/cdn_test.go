package cdn

import (
	"errors"
	"testing"
	"time"
)

func TestHasAliasNormalises(t *testing.T) {
	d := Distribution{Aliases: []string{"www.example.com"}}
	if !d.HasAlias(" WWW.Example.com. ") || d.HasAlias("api.example.com") {
		t.Fatal("HasAlias does not normalise or matches too much")
	}
	if !(Distribution{Status: StatusDeployed}).Deployed() || (Distribution{Status: StatusInProgress}).Deployed() {
		t.Fatal("Deployed")
	}
}

func TestTrafficValidate(t *testing.T) {
	good := []Traffic{
		{Weight: 0.15},
		{Weight: 0.05, Idle: 5 * time.Minute, Max: 10 * time.Minute},
		{HeaderName: "aws-cf-cd-canary", HeaderValue: "yes"},
	}
	for _, tr := range good {
		if err := tr.Validate(); err != nil {
			t.Errorf("%+v: %v", tr, err)
		}
	}
	bad := []Traffic{
		{Weight: 0.2},
		{Weight: -0.1},
		{Weight: 0.1, Idle: time.Minute, Max: 10 * time.Minute},
		{Weight: 0.1, Idle: 20 * time.Minute, Max: 10 * time.Minute},
		{HeaderName: "x-canary", HeaderValue: "1"},
		{HeaderName: "aws-cf-cd-canary"},
	}
	for _, tr := range bad {
		if err := tr.Validate(); !errors.Is(err, ErrInvalidTraffic) {
			t.Errorf("%+v: %v", tr, err)
		}
	}
}
