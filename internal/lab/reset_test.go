package lab

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// TestAnyKeyAcceptsTheFakeKeysOfMotoAndLocalStack: refused by default, as
// AWS refuses an unknown key; accepted as the admin of the named account
// once --any-key is on.
func TestAnyKeyAcceptsTheFakeKeysOfMotoAndLocalStack(t *testing.T) {
	l, _, url := startLab(t)
	ctx := context.Background()
	for _, key := range []string{"FOOBARKEY", "test"} {
		c := stssdk.NewFromConfig(awstest.ConfigAs(url, key, "FOOBARSECRET", ""))
		_, err := c.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{})
		awstest.APIError(t, err, "InvalidClientTokenId", "The security token included in the request is invalid.")

		l.Env.Keys.AllowAnyKey("333333333333")
		out, err := c.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("%s with any-key: %v", key, err)
		}
		if got := aws.ToString(out.Account); got != "333333333333" {
			t.Fatalf("%s acts in account %s, want 333333333333", key, got)
		}
		l.Env.Keys.AllowAnyKey("")
	}
}

func TestSeedAccessKeys(t *testing.T) {
	l := New(Options{Propagation: -1, DeployDelay: -1})
	s, err := ParseSeed("seed.yaml", []byte("access_keys:\n  - {id: AKIDSUITE, secret: s3cret, account: \"222222222222\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Apply(s); err != nil {
		t.Fatal(err)
	}
	c, aerr := l.Env.Keys.Lookup("AKIDSUITE")
	if aerr != nil {
		t.Fatalf("seeded key refused: %v", aerr)
	}
	if c.Identity.AccountID != awsapi.OtherAccountID || c.SecretAccessKey != "s3cret" {
		t.Fatalf("seeded key = %+v", c)
	}
	if _, aerr := l.Env.Keys.Lookup("AKIDOTHER"); aerr == nil {
		t.Fatal("an unseeded key is accepted without any-key")
	}
}

// TestResetReturnsToTheSeed: what a test creates is gone after a reset,
// through both paths a suite may post to, and the seed's world is intact.
func TestResetReturnsToTheSeed(t *testing.T) {
	for _, path := range []string{"/_lab/reset", "/moto-api/reset"} {
		t.Run(path, func(t *testing.T) {
			l, seeded, url := startLab(t)
			l.Mark()
			ctx := context.Background()
			cfg := awstest.Config(url)
			r := r53.NewFromConfig(cfg)
			if _, err := r.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("other.test"), CallerReference: aws.String("t1")}); err != nil {
				t.Fatal(err)
			}
			cf := cloudfront.NewFromConfig(cfg)
			old := seeded.Distributions["old"].ID
			got, err := cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(old)})
			if err != nil {
				t.Fatal(err)
			}
			dc := got.DistributionConfig
			dc.Comment = aws.String("changed by a test")
			dc.Aliases = &cftypes.Aliases{Quantity: aws.Int32(0)}
			if _, err := cf.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: aws.String(old), IfMatch: got.ETag, DistributionConfig: dc}); err != nil {
				t.Fatal(err)
			}
			temp, err := stssdk.NewFromConfig(cfg).AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/dns"), RoleSessionName: aws.String("suite")})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Env.History.List(awsapi.Filter{})) == 0 {
				t.Fatal("the test's writes left no history")
			}

			resp, err := http.Post(url+path, "application/json", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %s: %s", path, resp.Status)
			}

			zones, err := r.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(zones.HostedZones) != 1 || aws.ToString(zones.HostedZones[0].Name) != "example.com." {
				t.Fatalf("zones after reset: %+v", zones.HostedZones)
			}
			d, err := cf.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(old)})
			if err != nil {
				t.Fatal(err)
			}
			if c := d.Distribution.DistributionConfig; aws.ToString(c.Comment) == "changed by a test" || aws.ToInt32(c.Aliases.Quantity) != 1 {
				t.Fatalf("distribution after reset: comment %q, %d aliases", aws.ToString(c.Comment), aws.ToInt32(c.Aliases.Quantity))
			}
			if n := len(l.Env.History.List(awsapi.Filter{})); n != 0 {
				t.Fatalf("history after reset holds %d changes", n)
			}
			if _, aerr := l.Env.Keys.Lookup(aws.ToString(temp.Credentials.AccessKeyId)); aerr == nil {
				t.Fatal("a temporary key from before the reset is still accepted")
			}
			if _, aerr := l.Env.Keys.Lookup(awsapi.DefaultAccessKeyID); aerr != nil {
				t.Fatalf("the admin key is refused after reset: %v", aerr)
			}
		})
	}
}

func TestResetTakesPostOnly(t *testing.T) {
	_, _, url := startLab(t)
	resp, err := http.Get(url + "/_lab/reset")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET /_lab/reset: %s, want 405", resp.Status)
	}
}
