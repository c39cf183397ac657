package route53

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/awsconfig/mototest"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// TestWireAgainstMoto drives the provider through the real SDK and wire
// format against moto_server, an independent Route 53 emulator.
//
// moto differs from Route 53 on compare-and-swap: it checks a DELETE
// against its history of CREATE/UPSERT requests rather than against the
// record as stored now, and answers a DELETE it cannot match with
// InvalidInput instead of InvalidChangeBatch. Conflict detection is
// therefore tested against the in-memory fake (provider_test.go); here the
// differences are pinned so a change in either side is noticed.
func TestWireAgainstMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	cfg := awstest.Config(endpoint)
	ctx := context.Background()

	zone, err := route53.NewFromConfig(cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{
		Name: aws.String("example.com"), CallerReference: aws.String("wire-test"),
	})
	if err != nil {
		t.Fatalf("creating zone: %v", err)
	}
	zoneID := aws.ToString(zone.HostedZone.Id) // "/hostedzone/…": the provider must cope
	p := New(cfg, Options{Limiter: NewLimiter(1000, 1000, nil), Sleep: func(context.Context, time.Duration) error { return nil }})

	if name, err := p.ZoneName(ctx, zoneID); err != nil || name != "example.com." {
		t.Fatalf("ZoneName = %q, %v", name, err)
	}

	v1 := dns.RecordSet{Name: "www.example.com", Type: "A", TTL: 300, Values: []string{"192.0.2.1", "192.0.2.2"}}
	id, err := p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{New: &v1}}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if id == "" {
		t.Fatal("create returned no change id")
	}
	read, err := p.Records(ctx, zoneID, "WWW.example.com.")
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != 1 || !read[0].Equal(v1) || read[0].Name != "www.example.com." {
		t.Fatalf("Records = %v, want [%v]", read, v1)
	}

	// The documented atomic swap: DELETE the value set, CREATE an alias.
	alias := dns.RecordSet{Name: "www.example.com.", Type: "A",
		Alias: &dns.AliasTarget{ZoneID: AliasZoneForCloudFront, DNSName: "d111111abcdef8.cloudfront.net."}}
	id, err = p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Comment: "swap", Changes: []dns.Change{{Old: &read[0], New: &alias}}})
	if err != nil {
		t.Fatalf("replace: %v", err)
	}
	now, err := p.Records(ctx, zoneID, "www.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(now) != 1 || !now[0].Equal(alias) {
		t.Fatalf("after replace Records = %v, want [%v]", now, alias)
	}
	// moto reports every change INSYNC at once (even ids it never issued);
	// Route 53 says PENDING first and NoSuchChange for unknown ids.
	if ok, err := p.InSync(ctx, id); err != nil || !ok {
		t.Fatalf("InSync(%s) = %v, %v", id, ok, err)
	}

	// Wildcards come back plain whatever escaping the server used.
	wild := dns.RecordSet{Name: "*.example.com.", Type: "CNAME", TTL: 60, Values: []string{"www.example.com."}}
	if _, err := p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{New: &wild}}}); err != nil {
		t.Fatalf("wildcard: %v", err)
	}
	if got, err := p.Records(ctx, zoneID, "*.example.com"); err != nil || len(got) != 1 || !got[0].Equal(wild) {
		t.Fatalf("wildcard Records = %v, %v", got, err)
	}

	// A stale Old whose values were never served: Route 53 answers
	// InvalidChangeBatch ("… values provided do not match"), moto answers
	// InvalidInput. Either way the batch, including its CREATE, must not
	// take effect.
	api := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.5"}}
	if _, err := p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{New: &api}}}); err != nil {
		t.Fatal(err)
	}
	ghost := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 300, Values: []string{"203.0.113.9"}}
	next := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 60, Values: []string{"203.0.113.10"}}
	_, err = p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{Old: &ghost, New: &next}}})
	if err == nil {
		t.Fatal("a DELETE of values never served was accepted")
	}
	if errors.Is(err, dns.ErrConflict) {
		t.Log("moto now reports stale deletes as conflicts; the note above can go")
	}
	if after, _ := p.Records(ctx, zoneID, "api.example.com"); len(after) != 1 || !after[0].Equal(api) {
		t.Fatalf("rejected batch changed the zone: %v", after)
	}

	// A CREATE of a taken key is rejected the Route 53 way, as a conflict.
	_, err = p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{New: &wild}}})
	var ce *dns.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("duplicate CREATE: err = %v, want a conflict", err)
	}
	if len(ce.Expected) != 1 || !ce.Expected[0].Equal(wild) || len(ce.Actual) != 1 || !ce.Actual[0].Equal(wild) {
		t.Errorf("conflict expected %v actual %v", ce.Expected, ce.Actual)
	}

	// The history-based check: the first version was once created, so moto
	// accepts deleting it although the zone now serves the alias, and its
	// DELETE removes whatever A set is at the name. Route 53 would refuse
	// with "values provided do not match". Pinned so a fix in moto shows up.
	v2 := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 120, Values: []string{"192.0.2.3"}}
	_, err = p.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{Old: &read[0], New: &v2}}})
	switch {
	case err == nil:
		got, _ := p.Records(ctx, zoneID, "www.example.com")
		if len(got) != 1 || !got[0].Equal(v2) {
			t.Errorf("moto accepted the stale DELETE; Records = %v, want [%v]", got, v2)
		}
	case errors.Is(err, dns.ErrConflict):
		t.Log("moto now refuses a stale DELETE as Route 53 does; update the note above")
	default:
		t.Errorf("stale DELETE: err = %v; a refusal must be a conflict", err)
	}
}

// SetHealthCheckInverted against moto_server: the flag round-trips through
// GetHealthCheck/UpdateHealthCheck on the real wire format, and setting it
// again is a no-op.
func TestSetHealthCheckInvertedAgainstMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	cfg := awstest.Config(endpoint)
	ctx := context.Background()
	client := route53.NewFromConfig(cfg)
	out, err := client.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference:   aws.String("invert-test"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("api.example.com"), Port: aws.Int32(80), ResourcePath: aws.String("/")},
	})
	if err != nil {
		t.Fatalf("creating health check: %v", err)
	}
	id := aws.ToString(out.HealthCheck.Id)
	p := New(cfg, Options{Limiter: NewLimiter(1000, 1000, nil), Sleep: func(context.Context, time.Duration) error { return nil }})
	for _, want := range []bool{true, true, false} {
		if err := p.SetHealthCheckInverted(ctx, id, want); err != nil {
			t.Fatalf("SetHealthCheckInverted(%v): %v", want, err)
		}
		got, err := client.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		if inv := aws.ToBool(got.HealthCheck.HealthCheckConfig.Inverted); inv != want {
			t.Fatalf("inverted = %v after setting %v", inv, want)
		}
	}
}
