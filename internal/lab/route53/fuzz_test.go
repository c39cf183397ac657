package route53

import (
	"encoding/xml"
	"reflect"
	"testing"
)

const seedBatch = `<?xml version="1.0" encoding="UTF-8"?>
<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Comment>c</Comment><Changes>
<Change><Action>CREATE</Action><ResourceRecordSet><Name>www.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
<Change><Action>UPSERT</Action><ResourceRecordSet><Name>\052.example.com</Name><Type>A</Type><SetIdentifier>b</SetIdentifier><Weight>10</Weight><AliasTarget><HostedZoneId>Z2FDTNDATAQYW2</HostedZoneId><DNSName>d1.cloudfront.net</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>
<Change><Action>CREATE</Action><ResourceRecordSet><Name>t.example.com</Name><Type>TXT</Type><SetIdentifier>m</SetIdentifier><MultiValueAnswer>true</MultiValueAnswer><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>"a" "b\"c"</Value></ResourceRecord></ResourceRecords><HealthCheckId>x</HealthCheckId></ResourceRecordSet></Change>
<Change><Action>DELETE</Action><ResourceRecordSet><Name>f.example.com</Name><Type>A</Type><SetIdentifier>p</SetIdentifier><Failover>PRIMARY</Failover><GeoLocation><CountryCode>DE</CountryCode></GeoLocation><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.2</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>
</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`

// FuzzDecodeChangeBatch feeds arbitrary bodies through the decoder and the
// whole validation path: nothing may panic, every error must be an AWS
// error, and whatever is accepted must survive the wire round trip.
func FuzzDecodeChangeBatch(f *testing.F) {
	for _, seed := range []string{
		seedBatch,
		`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest><ChangeBatch/></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>CREATE</Action><ResourceRecordSet><Name>a\\b\377.example.com.</Name><Type>A</Type><TTL>99999999999999999999</TTL></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`,
		`<Other/>`, `<ChangeResourceRecordSetsRequest>`, ``, `<<>>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		comment, changes, aerr := decodeChangeBatch(body)
		if aerr != nil {
			if aerr.Code == "" || aerr.Status < 400 {
				t.Fatalf("bad error %+v", aerr)
			}
			return
		}
		s, _ := newLab(t, Options{})
		zid := mustZone(t, s, "example.com")
		s.mu.Lock()
		ch, aerr := s.changeRecordSets(identityFor(""), zid, comment, changes)
		s.mu.Unlock()
		if aerr != nil {
			if aerr.Code == "" || aerr.Status < 400 {
				t.Fatalf("bad error %+v", aerr)
			}
			return
		}
		if ch == nil {
			t.Fatal("accepted without a change")
		}
		recs, _ := s.Records(zid)
		for _, rs := range recs {
			wire, err := xml.Marshal(rrsetXML(rs))
			if err != nil {
				t.Fatalf("marshal %+v: %v", rs, err)
			}
			var back xmlRRSet
			if err := xml.Unmarshal(wire, &back); err != nil {
				t.Fatalf("unmarshal %s: %v", wire, err)
			}
			got := back.recordSet()
			if raw, p := parseName(got.Name); p != "" || raw != rs.Name {
				t.Fatalf("name %q came back as %q (%s)", rs.Name, got.Name, p)
			}
			got.Name = rs.Name
			if got.AliasTarget != nil {
				got.AliasTarget.DNSName = rs.AliasTarget.DNSName
			}
			if !sameSet(got, rs) {
				t.Fatalf("round trip changed the set:\n%+v\n%+v", rs, got)
			}
		}
	})
}

// TestNameForms pins the raw ↔ wire name forms and the listing sort key.
func TestNameForms(t *testing.T) {
	for _, tc := range []struct{ in, raw, wire string }{
		{"WWW.Example.com", "www.example.com.", "www.example.com."},
		{`\052.example.com.`, "*.example.com.", `\052.example.com.`},
		{"*.example.com", "*.example.com.", `\052.example.com.`},
		{`a\040b.example.com`, "a b.example.com.", `a\040b.example.com.`},
		{"_acme-challenge.x.", "_acme-challenge.x.", "_acme-challenge.x."},
	} {
		raw, p := parseName(tc.in)
		if p != "" || raw != tc.raw || encodeName(raw) != tc.wire {
			t.Errorf("%q: raw %q wire %q (%s), want %q %q", tc.in, raw, encodeName(raw), p, tc.raw, tc.wire)
		}
	}
	// The trailing dot sorts after '-': example-a.com. before example.com.
	var sorted []string
	for _, n := range []string{"www.example.com.", "example.com.", "example-a.com.", "a.example.com.", "*.example.com."} {
		sorted = append(sorted, n)
	}
	ix := newRecordIndex()
	for _, n := range sorted {
		ix.put(RecordSet{Name: n, Type: "A"})
	}
	var got []string
	for _, rs := range ix.sorted() {
		got = append(got, rs.Name)
	}
	want := []string{"example-a.com.", "example.com.", "*.example.com.", "a.example.com.", "www.example.com."}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sorted %v, want %v", got, want)
	}
}
