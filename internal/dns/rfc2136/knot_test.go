package rfc2136_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/rfc2136"
	"github.com/cutover/cutover/internal/dns/rfc2136/knottest"
)

func provider(t *testing.T, k *knottest.Server) *rfc2136.Provider {
	t.Helper()
	p, err := rfc2136.New(rfc2136.Options{Server: k.Addr, TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Algorithm: knottest.Algorithm, Secret: k.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func start(t *testing.T, noTransfer bool) *knottest.Server {
	return startWith(t, knottest.Options{NoTransfer: noTransfer})
}

func startWith(t *testing.T, o knottest.Options) *knottest.Server {
	o.Zone = "example.com"
	return knottest.Start(t, knottest.Options{Zone: o.Zone, NoTransfer: o.NoTransfer, Secret: o.Secret, Records: []string{
		"api 300 IN CNAME old.edge.test.",
		"www 300 IN A 192.0.2.1",
		"www 300 IN A 192.0.2.2",
		`www 300 IN TXT "hello world"`,
	}})
}

func only(t *testing.T, sets []dns.RecordSet, typ string) dns.RecordSet {
	t.Helper()
	for _, s := range sets {
		if s.Type == typ {
			return s
		}
	}
	t.Fatalf("no %s record set in %v", typ, sets)
	return dns.RecordSet{}
}

func TestRecordsByTransferAndByQuery(t *testing.T) {
	for _, noTransfer := range []bool{false, true} {
		name := map[bool]string{false: "axfr", true: "queries"}[noTransfer]
		t.Run(name, func(t *testing.T) {
			k := start(t, noTransfer)
			p := provider(t, k)
			sets, err := p.Records(context.Background(), "example.com", "www.example.com")
			if err != nil {
				t.Fatal(err)
			}
			if len(sets) != 2 {
				t.Fatalf("want A and TXT, got %v", sets)
			}
			a := only(t, sets, "A")
			if !a.Equal(dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.2", "192.0.2.1"}}) {
				t.Errorf("A = %v", a)
			}
			if txt := only(t, sets, "TXT"); len(txt.Values) != 1 || txt.Values[0] != `"hello world"` {
				t.Errorf("TXT = %v", txt)
			}
			api, err := p.Records(context.Background(), "example.com", "api.example.com")
			if err != nil {
				t.Fatal(err)
			}
			if len(api) != 1 || api[0].String() != "api.example.com. 300 CNAME old.edge.test." {
				t.Errorf("api = %v", api)
			}
		})
	}
}

func TestApplyIsCompareAndSwap(t *testing.T) {
	k := start(t, false)
	p := provider(t, k)
	ctx := context.Background()
	old := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.edge.test."}}
	low := old
	low.TTL = 30
	id, err := p.Apply(ctx, dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &old, New: &low}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "example.com.@") {
		t.Errorf("change id %q", id)
	}
	ok, err := p.InSync(ctx, id)
	if err != nil || !ok {
		t.Fatalf("InSync = %v, %v; the primary serves its own serial", ok, err)
	}

	// Someone repoints the record behind the run's back.
	k.Knsupdate(t, "update delete api.example.com. CNAME", "update add api.example.com. 30 CNAME intruder.test.")
	nw := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 30, Values: []string{"new.edge.test."}}
	_, err = p.Apply(ctx, dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &low, New: &nw}}})
	var ce *dns.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, dns.ErrConflict) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if len(ce.Actual) != 1 || ce.Actual[0].Values[0] != "intruder.test." {
		t.Errorf("conflict's actual = %v", ce.Actual)
	}
	sets, err := p.Records(ctx, "example.com", "api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || sets[0].Values[0] != "intruder.test." {
		t.Errorf("a refused update changed the zone: %v", sets)
	}

	// A create whose record set already exists is refused too.
	dup := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 60, Values: []string{"192.0.2.9"}}
	if _, err := p.Apply(ctx, dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{New: &dup}}}); !errors.Is(err, dns.ErrConflict) {
		t.Errorf("create over an existing set: want a conflict, got %v", err)
	}
}

func TestApplyIsAtomic(t *testing.T) {
	k := start(t, false)
	p := provider(t, k)
	ctx := context.Background()
	api := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.edge.test."}}
	wrong := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.1"}} // the set holds two
	nwAPI := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 30, Values: []string{"new.edge.test."}}
	nwWWW := dns.RecordSet{Name: "www.example.com.", Type: "A", TTL: 30, Values: []string{"192.0.2.7"}}
	_, err := p.Apply(ctx, dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &api, New: &nwAPI}, {Old: &wrong, New: &nwWWW}}})
	if !errors.Is(err, dns.ErrConflict) {
		t.Fatalf("want a conflict for a partial value set, got %v", err)
	}
	sets, _ := p.Records(ctx, "example.com", "api.example.com")
	if len(sets) != 1 || sets[0].Values[0] != "old.edge.test." {
		t.Errorf("half of a refused update was applied: %v", sets)
	}
	// CNAME out, A in, in one update; then delete.
	a := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 30, Values: []string{"192.0.2.50"}}
	if _, err := p.Apply(ctx, dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &api}, {New: &a}}}); err != nil {
		t.Fatal(err)
	}
	sets, _ = p.Records(ctx, "example.com", "api.example.com")
	if len(sets) != 1 || !sets[0].Equal(a) {
		t.Errorf("after CNAME → A: %v", sets)
	}
}

func TestInSyncWaitsForEveryServer(t *testing.T) {
	primary := start(t, false)
	// A second server that never gets the update: its serial stays behind.
	lagging := startWith(t, knottest.Options{Secret: primary.Secret})
	p, err := rfc2136.New(rfc2136.Options{Server: primary.Addr, Nameservers: []string{primary.Addr, lagging.Addr},
		TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: primary.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.Apply(context.Background(), apiMove())
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.InSync(context.Background(), id); err != nil || ok {
		t.Fatalf("InSync = %v, %v with a server behind", ok, err)
	}
	// The lagging server catches up (the same edit applied to it).
	lagging.Knsupdate(t, "update delete api.example.com. CNAME", "update add api.example.com. 30 CNAME new.edge.test.")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	awaitInSync(ctx, t, p, id, 20*time.Millisecond, "InSync never became true after the lagging server caught up")
}

func TestWrongKeyIsRefused(t *testing.T) {
	k := start(t, false)
	p, err := rfc2136.New(rfc2136.Options{Server: k.Addr, TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Apply(context.Background(), apiMove())
	if err == nil || errors.Is(err, dns.ErrConflict) {
		t.Fatalf("an update signed with the wrong key: want a plain error, got %v", err)
	}
	if strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("the error carries the secret: %v", err)
	}
}

func TestWeightsAreRefused(t *testing.T) {
	w := int64(10)
	r := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", SetIdentifier: "x", Weight: &w, TTL: 30, Values: []string{"a.test."}}
	if _, err := rfc2136.Update(dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{New: &r}}}); !errors.Is(err, rfc2136.ErrUnsupported) {
		t.Errorf("weighted record: got %v", err)
	}
}

// TestInSyncFollowsRealReplication: a primary notifies its secondary,
// which transfers the change; InSync turns true once the secondary serves
// the update's serial, and the secondary then answers with the new record.
func TestInSyncFollowsRealReplication(t *testing.T) {
	primary, secondary := knottest.StartPair(t, knottest.Options{Zone: "example.com", Records: []string{"api 300 IN CNAME old.edge.test."}})
	p, err := rfc2136.New(rfc2136.Options{Server: primary.Addr, Nameservers: []string{primary.Addr, secondary.Addr},
		TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: primary.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	move := apiMove()
	start := time.Now()
	id, err := p.Apply(ctx, move)
	if err != nil {
		t.Fatal(err)
	}
	awaitInSync(ctx, t, p, id, 10*time.Millisecond, "the secondary never served the update's serial")
	t.Logf("update to INSYNC on both servers: %s", time.Since(start))
	onSecondary, err := rfc2136.New(rfc2136.Options{Server: secondary.Addr, TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: secondary.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	sets, err := onSecondary.Records(ctx, "example.com", "api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 1 || !sets[0].Equal(*move.Changes[0].New) {
		t.Fatalf("secondary serves %v after INSYNC", sets)
	}
}

// apiMove changes api.example.com's CNAME from old.edge.test. (TTL 300)
// to new.edge.test. (TTL 30).
func apiMove() dns.ChangeSet {
	old := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.edge.test."}}
	nw := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 30, Values: []string{"new.edge.test."}}
	return dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &old, New: &nw}}}
}

// awaitInSync polls p.InSync for the change id every poll until it says
// true; an error fails the test, and so does the end of ctx, with never.
func awaitInSync(ctx context.Context, t *testing.T, p *rfc2136.Provider, id string, poll time.Duration, never string) {
	t.Helper()
	for {
		ok, err := p.InSync(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(never)
		case <-time.After(poll):
		}
	}
}
