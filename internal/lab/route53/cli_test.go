package route53_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/route53"
)

// cli runs one aws CLI command that must succeed and decodes its JSON.
func (l *lab) cli(t *testing.T, out any, args ...string) {
	t.Helper()
	res := awstest.CLI(t, l.url, args...)
	if res.ExitCode != 0 {
		t.Fatalf("aws %v: exit %d\n%s", args, res.ExitCode, res.Stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Stdout), out); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, res.Stdout)
		}
	}
}

// cliFails runs one aws CLI command that must fail with code and message.
func (l *lab) cliFails(t *testing.T, code, msg string, args ...string) {
	t.Helper()
	res := awstest.CLI(t, l.url, args...)
	want := fmt.Sprintf("An error occurred (%s)", code)
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, want) || !strings.Contains(res.Stderr, msg) {
		t.Fatalf("aws %v: exit %d, stderr:\n%s\nwant %s and %q", args, res.ExitCode, res.Stderr, want, msg)
	}
}

func changeBatch(changes ...string) string {
	return `{"Changes":[` + strings.Join(changes, ",") + `]}`
}

func jsonChange(action, name, typ string, ttl int, values ...string) string {
	var rr []string
	for _, v := range values {
		b, _ := json.Marshal(v)
		rr = append(rr, `{"Value":`+string(b)+`}`)
	}
	return fmt.Sprintf(`{"Action":%q,"ResourceRecordSet":{"Name":%q,"Type":%q,"TTL":%d,"ResourceRecords":[%s]}}`, action, name, typ, ttl, strings.Join(rr, ","))
}

type cliChangeInfo struct {
	ChangeInfo struct{ Id, Status string }
}

// TestCLIConformance drives the lab with the aws CLI (botocore): the calls
// and error paths the product depends on.
func TestCLIConformance(t *testing.T) {
	t.Parallel()
	l := newLab(t, route53.Options{Propagation: 30 * time.Second})
	var zone struct {
		HostedZone    struct{ Id, Name string }
		DelegationSet struct{ NameServers []string }
	}
	l.cli(t, &zone, "route53", "create-hosted-zone", "--name", "example.com", "--caller-reference", "cli-1")
	if !strings.HasPrefix(zone.HostedZone.Id, "/hostedzone/Z") || len(zone.DelegationSet.NameServers) != 4 {
		t.Fatalf("create-hosted-zone: %+v", zone)
	}
	zid := zone.HostedZone.Id // botocore strips the prefix before sending
	cname := jsonChange("CREATE", "www.example.com", "CNAME", 300, "d111.cloudfront.net")

	var ch cliChangeInfo
	l.cli(t, &ch, "route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch", changeBatch(cname))
	if ch.ChangeInfo.Status != "PENDING" || !strings.HasPrefix(ch.ChangeInfo.Id, "/change/C") {
		t.Fatalf("change: %+v", ch)
	}

	// Error paths and reads run in parallel: each CLI start costs seconds.
	t.Run("reads and error paths", func(t *testing.T) {
		t.Run("GetChange PENDING then INSYNC", func(t *testing.T) {
			t.Parallel()
			var st cliChangeInfo
			l.cli(t, &st, "route53", "get-change", "--id", ch.ChangeInfo.Id)
			if st.ChangeInfo.Status != "PENDING" {
				t.Fatalf("before: %s", st.ChangeInfo.Status)
			}
			l.clock.Advance(30 * time.Second)
			l.cli(t, &st, "route53", "get-change", "--id", ch.ChangeInfo.Id)
			if st.ChangeInfo.Status != "INSYNC" {
				t.Fatalf("after: %s", st.ChangeInfo.Status)
			}
			l.cliFails(t, "NoSuchChange", "does not exist", "route53", "get-change", "--id", "/change/CNOPE")
		})
		t.Run("duplicate CREATE", func(t *testing.T) {
			t.Parallel()
			l.cliFails(t, "InvalidChangeBatch", "[Tried to create resource record set [name='www.example.com.', type='CNAME'] but it already exists]",
				"route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch", changeBatch(cname))
		})
		t.Run("non-matching DELETE", func(t *testing.T) {
			t.Parallel()
			l.cliFails(t, "InvalidChangeBatch", "[Tried to delete resource record set [name='www.example.com.', type='CNAME'] but the values provided do not match the current values]",
				"route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch",
				changeBatch(jsonChange("DELETE", "www.example.com", "CNAME", 60, "d111.cloudfront.net")))
		})
		t.Run("CNAME conflict", func(t *testing.T) {
			t.Parallel()
			l.cliFails(t, "InvalidChangeBatch", "RRSet of type A with DNS name www.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.",
				"route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch",
				changeBatch(jsonChange("CREATE", "www.example.com", "A", 60, "192.0.2.1")))
		})
		t.Run("unknown zone", func(t *testing.T) {
			t.Parallel()
			l.cliFails(t, "NoSuchHostedZone", "No hosted zone found with ID: ZNOPE", "route53", "get-hosted-zone", "--id", "/hostedzone/ZNOPE")
		})
	})
	t.Run("atomic DELETE+CREATE swap", func(t *testing.T) {
		alias := `{"Action":"CREATE","ResourceRecordSet":{"Name":"www.example.com","Type":"A","AliasTarget":{"HostedZoneId":"Z2FDTNDATAQYW2","DNSName":"d222.cloudfront.net","EvaluateTargetHealth":false}}}`
		l.cli(t, nil, "route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch",
			changeBatch(strings.Replace(cname, `"CREATE"`, `"DELETE"`, 1), alias))
		var list struct {
			ResourceRecordSets []struct {
				Name, Type  string
				AliasTarget *struct{ DNSName string }
			}
		}
		l.cli(t, &list, "route53", "list-resource-record-sets", "--hosted-zone-id", zid)
		last := list.ResourceRecordSets[len(list.ResourceRecordSets)-1]
		if len(list.ResourceRecordSets) != 3 || last.Type != "A" || last.AliasTarget == nil || last.AliasTarget.DNSName != "d222.cloudfront.net." {
			t.Fatalf("after swap: %+v", list)
		}
	})
	t.Run("pagination across 3 pages", func(t *testing.T) {
		var cs []string
		for _, n := range []string{"a", "b", "c", "d", "*"} {
			cs = append(cs, jsonChange("CREATE", n+".example.com", "TXT", 60, `"`+n+`"`))
		}
		l.cli(t, nil, "route53", "change-resource-record-sets", "--hosted-zone-id", zid, "--change-batch", changeBatch(cs...))
		before := l.lists.Load()
		var list struct{ ResourceRecordSets []struct{ Name, Type string } }
		l.cli(t, &list, "route53", "list-resource-record-sets", "--hosted-zone-id", zid, "--page-size", "3")
		var got []string
		for _, rs := range list.ResourceRecordSets {
			got = append(got, rs.Name+"/"+rs.Type)
		}
		want := `example.com./NS example.com./SOA \052.example.com./TXT a.example.com./TXT b.example.com./TXT c.example.com./TXT d.example.com./TXT www.example.com./A`
		if strings.Join(got, " ") != want {
			t.Fatalf("got  %s\nwant %s", strings.Join(got, " "), want)
		}
		if n := l.lists.Load() - before; n != 3 {
			t.Fatalf("the CLI made %d ListResourceRecordSets calls, want 3 pages", n)
		}
	})
}

// TestCLIThrottlingLegacy: with the legacy limit (burst 5, 5/s on a frozen
// fake clock) the sixth request of one paginated CLI call is throttled.
func TestCLIThrottlingLegacy(t *testing.T) {
	t.Parallel()
	l := newLab(t, route53.Options{RateLimit: route53.RateLimitLegacy})
	for i := 0; i < 8; i++ {
		if _, err := l.svc.CreateZone("", fmt.Sprintf("z%d.example", i), false); err != nil {
			t.Fatal(err)
		}
	}
	l.cliFails(t, "Throttling", "Rate exceeded", "route53", "list-hosted-zones", "--page-size", "1")
}
