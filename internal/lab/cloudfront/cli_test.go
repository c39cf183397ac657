package cloudfront

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// cliConfigJSON is a DistributionConfig in the CLI's JSON shape.
func cliConfigJSON(t *testing.T, ref string, aliases ...string) string {
	t.Helper()
	if aliases == nil {
		aliases = []string{}
	}
	cfg := map[string]any{
		"CallerReference": ref,
		"Comment":         "cli " + ref,
		"Enabled":         true,
		"Aliases":         map[string]any{"Quantity": len(aliases), "Items": aliases},
		"Origins": map[string]any{"Quantity": 1, "Items": []any{map[string]any{
			"Id": "app", "DomainName": "app.origin.test",
			"CustomOriginConfig": map[string]any{"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
		}}},
		"DefaultCacheBehavior": map[string]any{"TargetOriginId": "app", "ViewerProtocolPolicy": "redirect-to-https",
			"CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
		"ViewerCertificate": map[string]any{"ACMCertificateArn": certA, "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
	}
	return writeJSON(t, ref+".json", cfg)
}

func writeJSON(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

func cliOK(t *testing.T, l *lab, out any, args ...string) {
	t.Helper()
	res := awstest.CLI(t, l.url, args...)
	if res.ExitCode != 0 {
		t.Fatalf("aws %v: exit %d: %s", args, res.ExitCode, res.Stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Stdout), out); err != nil {
			t.Fatalf("aws %v: decoding %q: %v", args, res.Stdout, err)
		}
	}
}

func cliErr(t *testing.T, l *lab, code, op, msg string, args ...string) {
	t.Helper()
	// Legacy is awscli v1's default retry mode; its error line is the plain
	// "…operation: message" a user sees, without the standard mode's
	// "(reached max retries: 0)" note.
	res := awstest.CLIEnv(t, l.url, []string{"AWS_RETRY_MODE=legacy"}, args...)
	want := "An error occurred (" + code + ") when calling the " + op + " operation: " + msg
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, want) {
		t.Fatalf("aws %v: exit %d, stderr %q; want %q", args, res.ExitCode, res.Stderr, want)
	}
}

type cliDist struct {
	ETag         string `json:"ETag"`
	Distribution struct {
		ID                 string `json:"Id"`
		Status             string `json:"Status"`
		DomainName         string `json:"DomainName"`
		DistributionConfig struct {
			Staging bool `json:"Staging"`
			Aliases struct {
				Quantity int      `json:"Quantity"`
				Items    []string `json:"Items"`
			} `json:"Aliases"`
			Origins struct {
				Items []struct {
					DomainName string `json:"DomainName"`
				} `json:"Items"`
			} `json:"Origins"`
		} `json:"DistributionConfig"`
	} `json:"Distribution"`
}

func TestCLIConformance(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()

	var a cliDist
	cliOK(t, l, &a, "cloudfront", "create-distribution", "--distribution-config", cliConfigJSON(t, "cli-a", "www.example.com"))
	if !idRe.MatchString(a.Distribution.ID) || a.Distribution.Status != "InProgress" || a.ETag == "" || a.Distribution.DistributionConfig.Aliases.Items[0] != "www.example.com" {
		t.Fatalf("create: %+v", a)
	}
	l.clock.Advance(time.Minute)
	cfgFile := cliConfigJSON(t, "cli-a", "www.example.com")
	conflictFile := cliConfigJSON(t, "cli-b", "www.example.com")
	// Calls that change nothing run side by side: the CLI is slow to start.
	t.Run("read-only and refused", func(t *testing.T) {
		t.Run("CNAMEAlreadyExists", func(t *testing.T) {
			t.Parallel()
			cliErr(t, l, "CNAMEAlreadyExists", "CreateDistribution", msgCNAMEExists,
				"cloudfront", "create-distribution", "--distribution-config", conflictFile)
		})
		t.Run("get", func(t *testing.T) {
			t.Parallel()
			var g cliDist
			cliOK(t, l, &g, "cloudfront", "get-distribution", "--id", a.Distribution.ID)
			if g.Distribution.Status != "Deployed" || g.ETag != a.ETag {
				t.Errorf("get: %+v", g)
			}
		})
		t.Run("missing If-Match", func(t *testing.T) {
			t.Parallel()
			cliErr(t, l, "InvalidIfMatchVersion", "UpdateDistribution", "The If-Match version is missing or not valid for the resource.",
				"cloudfront", "update-distribution", "--id", a.Distribution.ID, "--distribution-config", cfgFile)
		})
		t.Run("stale If-Match", func(t *testing.T) {
			t.Parallel()
			cliErr(t, l, "PreconditionFailed", "UpdateDistribution", "The request failed because it didn't meet the preconditions in one or more request-header fields.",
				"cloudfront", "update-distribution", "--id", a.Distribution.ID, "--if-match", "ESTALE", "--distribution-config", cfgFile)
		})
		t.Run("list", func(t *testing.T) {
			t.Parallel()
			var list struct {
				DistributionList struct {
					Items []struct {
						ID string `json:"Id"`
					} `json:"Items"`
				} `json:"DistributionList"`
			}
			cliOK(t, l, &list, "cloudfront", "list-distributions")
			if len(list.DistributionList.Items) != 1 || list.DistributionList.Items[0].ID != a.Distribution.ID {
				t.Errorf("list: %+v", list)
			}
		})
	})
	if t.Failed() {
		t.FailNow()
	}

	// Move the alias to a second distribution with AssociateAlias.
	b := l.create(t, l.cf, sdkConfig("target", certA, true))
	bID := aws.ToString(b.Distribution.Id)
	cliErr(t, l, "IllegalUpdate", "AssociateAlias", "Invalid or missing alias DNS TXT records.",
		"cloudfront", "associate-alias", "--target-distribution-id", bID, "--alias", "www.example.com")
	l.dns.set("_www.example.com", aws.ToString(b.Distribution.DomainName))
	cliOK(t, l, nil, "cloudfront", "associate-alias", "--target-distribution-id", bID, "--alias", "www.example.com")
	if v, _ := l.svc.Get(bID); len(v.Aliases) != 1 || v.Aliases[0] != "www.example.com" {
		t.Fatalf("alias not moved: %+v", v.Aliases)
	}

	var conflicts struct {
		ConflictingAliasesList struct {
			Quantity int `json:"Quantity"`
			Items    []struct {
				Alias, DistributionId, AccountId string
			} `json:"Items"`
		} `json:"ConflictingAliasesList"`
	}
	cliOK(t, l, &conflicts, "cloudfront", "list-conflicting-aliases", "--distribution-id", a.Distribution.ID, "--alias", "www.example.com")
	if c := conflicts.ConflictingAliasesList; c.Quantity != 1 || c.Items[0].DistributionId != bID || c.Items[0].AccountId != "111111111111" {
		t.Fatalf("conflicts: %+v", c)
	}

	// Continuous deployment: copy, policy, attach, promote.
	bcfg, bETag := l.getConfig(t, l.cf, bID)
	var st cliDist
	cliOK(t, l, &st, "cloudfront", "copy-distribution", "--primary-distribution-id", bID, "--staging", "--if-match", bETag, "--caller-reference", "cli-stg")
	if !st.Distribution.DistributionConfig.Staging || st.Distribution.DistributionConfig.Aliases.Quantity != 0 {
		t.Fatalf("copy: %+v", st)
	}
	var pol struct {
		ETag                       string `json:"ETag"`
		ContinuousDeploymentPolicy struct {
			ID string `json:"Id"`
		} `json:"ContinuousDeploymentPolicy"`
	}
	cliOK(t, l, &pol, "cloudfront", "create-continuous-deployment-policy", "--continuous-deployment-policy-config", writeJSON(t, "pol.json", map[string]any{
		"StagingDistributionDnsNames": map[string]any{"Quantity": 1, "Items": []string{st.Distribution.DomainName}},
		"Enabled":                     true,
		"TrafficConfig":               map[string]any{"Type": "SingleHeader", "SingleHeaderConfig": map[string]any{"Header": "aws-cf-cd-canary", "Value": "yes"}},
	}))
	if pol.ContinuousDeploymentPolicy.ID == "" || pol.ETag == "" {
		t.Fatalf("policy: %+v", pol)
	}
	bcfg.ContinuousDeploymentPolicyId = aws.String(pol.ContinuousDeploymentPolicy.ID)
	upd, err := l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(bID), IfMatch: aws.String(bETag), DistributionConfig: bcfg})
	if err != nil {
		t.Fatal(err)
	}
	l.update(t, l.cf, st.Distribution.ID, func(c *types.DistributionConfig) { c.Origins.Items[0].DomainName = aws.String("v2.origin.test") })
	_, sETag := l.getConfig(t, l.cf, st.Distribution.ID)
	var promoted cliDist
	cliOK(t, l, &promoted, "cloudfront", "update-distribution-with-staging-config", "--id", bID,
		"--staging-distribution-id", st.Distribution.ID, "--if-match", aws.ToString(upd.ETag)+", "+sETag)
	if promoted.Distribution.DistributionConfig.Origins.Items[0].DomainName != "v2.origin.test" || promoted.Distribution.DistributionConfig.Aliases.Items[0] != "www.example.com" {
		t.Fatalf("promote: %+v", promoted)
	}

	cliErr(t, l, "DistributionNotDisabled", "DeleteDistribution", "The distribution you are trying to delete has not been disabled.",
		"cloudfront", "delete-distribution", "--id", bID, "--if-match", promoted.ETag)
}
