package runbook

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// A zone on plain DNS reaches even aliasable edges (load balancers) by
// CNAME, and refuses the strategies that need weights or aliases.
func TestPlainDNSFlipUsesCNAMEs(t *testing.T) {
	spec := loadExample(t, "rfc2136-flip.yaml")
	if !spec.PlainDNS || spec.Zone != "example.com" {
		t.Fatalf("spec from an rfc2136 plan: PlainDNS %v, zone %q", spec.PlainDNS, spec.Zone)
	}
	recs := []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{albOld.DNSName + "."}}}
	rb, err := Compile(spec, Observed{Records: recs, From: albOld, To: albNew})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range rb.Steps {
		if v := st.Verify; v != nil && (v.NewMarker != "new-edge" || v.OldMarker != "old-edge") {
			t.Errorf("verify step without the plan's markers: %+v", v)
		}
	}
	rb.ZoneServer = &ZoneServer{Server: "ns1.example.com:53", TSIG: &TSIGRef{Name: "cutover-key", Algorithm: "hmac-sha256", SecretFile: "/etc/cutover/key"}}
	for _, cs := range rb.Changes() {
		for _, c := range cs.Changes {
			for _, r := range []*dns.RecordSet{c.Old, c.New} {
				if r != nil && (r.Alias != nil || r.Weight != nil || r.Type != "CNAME") {
					t.Errorf("plain DNS change holds %s", r)
				}
			}
		}
	}
	var buf bytes.Buffer
	Render(&buf, rb, albOld, albNew, time.Second)
	goldenFile(t, "rfc2136-flip", buf.Bytes())

	for _, s := range []string{"weighted", "alias-move", "bridge"} {
		sp := spec
		sp.Strategy = s
		sp.Steps = []WeightStep{{Weight: 100}}
		if _, err := Compile(sp, Observed{Records: recs, From: albOld, To: albNew}); err == nil || !strings.Contains(err.Error(), "plain DNS") {
			t.Errorf("strategy %s on plain DNS: err = %v", s, err)
		}
	}
}
