package route53

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const self = "SELF" // replaced by the test zone's id

// TestChangeBatchRules covers every validation rule of a change batch and
// the exact message each answers with. All cases run in zone example.com.
func TestChangeBatchRules(t *testing.T) {
	const (
		ICB = "InvalidChangeBatch"
		II  = "InvalidInput"
	)
	www := aRec("www.example.com", 300, "192.0.2.1")
	cnameWWW := simple("www.example.com", "CNAME", 300, "d111.cloudfront.net")
	long := strings.Repeat("x", 129)
	var hundred []Change
	for i := 0; i < 100; i++ {
		hundred = append(hundred, create(weighted("w.example.com", "A", fmt.Sprint("s", i), 1, 60, "192.0.2.1")))
	}
	var thousandOne, upsert501 []Change
	for i := 0; i < 1001; i++ {
		thousandOne = append(thousandOne, create(aRec(fmt.Sprintf("h%d.example.com", i), 60, "192.0.2.1")))
	}
	for i := 0; i < 501; i++ {
		upsert501 = append(upsert501, upsert(aRec(fmt.Sprintf("h%d.example.com", i), 60, "192.0.2.1")))
	}
	var bigTXT []string
	for i := 0; i < 130; i++ {
		bigTXT = append(bigTXT, fmt.Sprintf(`"%03d%s"`, i, strings.Repeat("t", 245)))
	}

	cases := []struct {
		name    string
		private bool
		seed    []Change
		batch   []Change
		status  int
		code    string // "" = accepted
		msg     string
	}{
		// CREATE / DELETE / UPSERT against the working copy, in order.
		{name: "create duplicate", seed: []Change{create(www)}, batch: []Change{create(www)}, code: ICB,
			msg: "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]"},
		{name: "create duplicate weighted names the set identifier",
			seed:  []Change{create(weighted("www.example.com", "A", "blue", 1, 60, "192.0.2.1"))},
			batch: []Change{create(weighted("www.example.com", "A", "blue", 1, 60, "192.0.2.1"))}, code: ICB,
			msg: "[Tried to create resource record set [name='www.example.com.', type='A', set-identifier='blue'] but it already exists]"},
		{name: "delete missing", batch: []Change{del(www)}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but it was not found]"},
		{name: "delete with other TTL", seed: []Change{create(www)}, batch: []Change{del(aRec("www.example.com", 60, "192.0.2.1"))}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{name: "delete with other values", seed: []Change{create(www)}, batch: []Change{del(aRec("www.example.com", 300, "192.0.2.2"))}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{name: "delete with other weight", seed: []Change{create(weighted("w.example.com", "A", "a", 10, 60, "192.0.2.1"))},
			batch: []Change{del(weighted("w.example.com", "A", "a", 11, 60, "192.0.2.1"))}, code: ICB,
			msg: "[Tried to delete resource record set [name='w.example.com.', type='A', set-identifier='a'] but the values provided do not match the current values]"},
		{name: "delete with other alias target", seed: []Change{create(alias("www.example.com", "A", CloudFrontZoneID, "d1.cloudfront.net", false))},
			batch: []Change{del(alias("www.example.com", "A", CloudFrontZoneID, "d2.cloudfront.net", false))}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{name: "delete with other health check", seed: []Change{create(www)},
			batch: []Change{del(func() RecordSet { r := www; r.HealthCheckID = "hc"; return r }())}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{name: "delete matches values in any order and any name case",
			seed:  []Change{create(aRec("www.example.com", 300, "192.0.2.1", "192.0.2.2"))},
			batch: []Change{del(aRec("WWW.Example.COM.", 300, "192.0.2.2", "192.0.2.1"))}},
		{name: "delete twice in one batch", seed: []Change{create(www)}, batch: []Change{del(www), del(www)}, code: ICB,
			msg: "[Tried to delete resource record set [name='www.example.com.', type='A'] but it was not found]"},
		{name: "delete then create in one batch", seed: []Change{create(www)}, batch: []Change{del(www), create(aRec("www.example.com", 60, "192.0.2.9"))}},
		{name: "upsert creates then replaces", batch: []Change{upsert(www), upsert(aRec("www.example.com", 60, "192.0.2.9"))}},

		// InvalidInput: model constraints and the shape of a set.
		{name: "no changes", batch: []Change{}, status: http.StatusBadRequest, code: II,
			msg: "1 validation error detected: Value '[]' at 'changeBatch.changes' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "unknown action", batch: []Change{{Action: "MODIFY", Set: www}}, code: II,
			msg: "1 validation error detected: Value 'MODIFY' at 'changeBatch.changes.1.member.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]"},
		{name: "unknown type", batch: []Change{create(simple("www.example.com", "FOO", 60, "x"))}, code: II,
			msg: "1 validation error detected: Value 'FOO' at 'changeBatch.changes.1.member.resourceRecordSet.type' failed to satisfy constraint: Member must satisfy enum value set: [SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]"},
		{name: "weight above 255", batch: []Change{create(weighted("w.example.com", "A", "a", 256, 60, "192.0.2.1"))}, code: II,
			msg: "1 validation error detected: Value '256' at 'changeBatch.changes.1.member.resourceRecordSet.weight' failed to satisfy constraint: Member must have value less than or equal to 255"},
		{name: "negative weight", batch: []Change{create(weighted("w.example.com", "A", "a", -1, 60, "192.0.2.1"))}, code: II,
			msg: "1 validation error detected: Value '-1' at 'changeBatch.changes.1.member.resourceRecordSet.weight' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{name: "weights 0 and 255 are fine", batch: []Change{
			create(weighted("w.example.com", "A", "a", 0, 60, "192.0.2.1")), create(weighted("w.example.com", "A", "b", 255, 60, "192.0.2.2"))}},
		{name: "set identifier too long and two errors at once",
			batch: []Change{create(weighted("w.example.com", "A", long, 300, 60, "192.0.2.1"))}, code: II,
			msg: "2 validation errors detected: Value '" + long + "' at 'changeBatch.changes.1.member.resourceRecordSet.setIdentifier' failed to satisfy constraint: Member must have length less than or equal to 128; " +
				"Value '300' at 'changeBatch.changes.1.member.resourceRecordSet.weight' failed to satisfy constraint: Member must have value less than or equal to 255"},
		{name: "neither alias nor TTL and records", batch: []Change{create(RecordSet{Name: "www.example.com", Type: "A", TTL: Int64(60)})}, code: II,
			msg: "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=www.example.com, Type=A, SetIdentifier=null]"},
		{name: "alias with a TTL", batch: []Change{create(func() RecordSet {
			r := alias("www.example.com.", "A", CloudFrontZoneID, "d1.cloudfront.net", false)
			r.TTL = Int64(60)
			return r
		}())}, code: II,
			msg: "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=CREATE, Name=www.example.com., Type=A, SetIdentifier=null]"},
		{name: "weight without set identifier", batch: []Change{upsert(func() RecordSet { r := www; r.Weight = Int64(1); return r }())}, code: II,
			msg: "Invalid request: Missing field 'SetIdentifier' in Change with [Action=UPSERT, Name=www.example.com, Type=A, SetIdentifier=null]"},
		{name: "multivalue false still needs a set identifier", batch: []Change{create(func() RecordSet { r := www; r.MultiValueAnswer = Bool(false); return r }())}, code: II,
			msg: "Invalid request: Missing field 'SetIdentifier' in Change with [Action=CREATE, Name=www.example.com, Type=A, SetIdentifier=null]"},
		{name: "set identifier without routing policy", batch: []Change{create(func() RecordSet { r := www; r.SetIdentifier = "x"; return r }())}, code: II,
			msg: "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, or CidrRoutingConfig], but found none in Change with [Action=CREATE, Name=www.example.com, Type=A, SetIdentifier=x]"},
		{name: "two routing policies", batch: []Change{create(func() RecordSet {
			r := weighted("www.example.com", "A", "x", 1, 60, "192.0.2.1")
			r.Failover = FailoverPrimary
			return r
		}())}, code: II,
			msg: "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, or CidrRoutingConfig], but found more than one in Change with [Action=CREATE, Name=www.example.com, Type=A, SetIdentifier=x]"},

		// Routing policy groups.
		{name: "weighted next to simple", seed: []Change{create(www)},
			batch: []Change{create(weighted("www.example.com", "A", "blue", 10, 300, "192.0.2.2"))}, code: ICB,
			msg: "[RRSet with DNS name www.example.com., type A, SetIdentifier blue cannot be created as a non-weighted set exists with the same name and type.]"},
		{name: "simple next to weighted", seed: []Change{create(weighted("www.example.com", "A", "blue", 10, 300, "192.0.2.2"))},
			batch: []Change{create(www)}, code: ICB,
			msg: "[RRSet with DNS name www.example.com., type A cannot be created as other RRSets exist with the same name and type.]"},
		{name: "failover next to weighted", seed: []Change{create(weighted("www.example.com", "A", "blue", 10, 60, "192.0.2.2"))},
			batch: []Change{create(failover("www.example.com", "p", FailoverPrimary, "192.0.2.3"))}, code: ICB,
			msg: "[RRSet with DNS name www.example.com., type A, SetIdentifier p cannot be created as a non-failover set exists with the same name and type.]"},
		{name: "multivalue next to simple", seed: []Change{create(simple("t.example.com", "TXT", 60, `"a"`))},
			batch: []Change{create(func() RecordSet {
				r := simple("t.example.com", "TXT", 60, `"b"`)
				r.SetIdentifier, r.MultiValueAnswer = "m", Bool(true)
				return r
			}())}, code: ICB,
			msg: `[RRSet with DNS name t.example.com., type TXT, SetIdentifier "m" cannot be created because a non multivalue answer rrset exists with the same name and type.]`},
		{name: "simple to weighted in one batch", seed: []Change{create(www)},
			batch: []Change{del(www), create(weighted("www.example.com", "A", "blue", 10, 300, "192.0.2.1")), create(weighted("www.example.com", "A", "green", 0, 300, "192.0.2.2"))}},
		{name: "weighted alias and weighted values share a group", seed: []Change{create(weighted("www.example.com", "A", "alb", 90, 60, "192.0.2.1"))},
			batch: []Change{create(func() RecordSet {
				r := alias("www.example.com", "A", "Z35SXDOTRQ7X7K", "dualstack.lb-1.us-east-1.elb.amazonaws.com", true)
				r.SetIdentifier, r.Weight = "elb", Int64(10)
				return r
			}())}},
		{name: "weighted TTL changed on one member", seed: []Change{
			create(weighted("www.example.com", "A", "blue", 1, 60, "192.0.2.1")), create(weighted("www.example.com", "A", "green", 1, 60, "192.0.2.2"))},
			batch: []Change{upsert(weighted("www.example.com", "A", "blue", 1, 300, "192.0.2.1"))}, code: ICB,
			msg: "[RRSet with DNS name www.example.com. and type A, SetIdentifier blue cannot be created as weighted sets must contain the same TTL.]"},
		{name: "weighted TTL changed on every member in one batch", seed: []Change{
			create(weighted("www.example.com", "A", "blue", 1, 60, "192.0.2.1")), create(weighted("www.example.com", "A", "green", 1, 60, "192.0.2.2"))},
			batch: []Change{upsert(weighted("www.example.com", "A", "blue", 1, 300, "192.0.2.1")), upsert(weighted("www.example.com", "A", "green", 1, 300, "192.0.2.2"))}},
		{name: "101st weighted set", seed: hundred, batch: []Change{create(weighted("w.example.com", "A", "s100", 1, 60, "192.0.2.1"))}, code: ICB,
			msg: "[RRSet with DNS name w.example.com. and type A, SetIdentifier s100 cannot be created as a weighted group cannot have more than 100 sets.]"},
		{name: "second primary", seed: []Change{create(failover("f.example.com", "p", FailoverPrimary, "192.0.2.1"))},
			batch: []Change{create(failover("f.example.com", "p2", FailoverPrimary, "192.0.2.2"))}, code: ICB,
			msg: "[RRSet with DNS name f.example.com. and type A, SetIdentifier p2 cannot be created as a PRIMARY failover set already exists with the same name and type.]"},
		{name: "swap failover roles in one batch", seed: []Change{
			create(failover("f.example.com", "a", FailoverPrimary, "192.0.2.1")), create(failover("f.example.com", "b", FailoverSecondary, "192.0.2.2"))},
			batch: []Change{upsert(failover("f.example.com", "a", FailoverSecondary, "192.0.2.1")), upsert(failover("f.example.com", "b", FailoverPrimary, "192.0.2.2"))}},

		// CNAME rules.
		{name: "CNAME at apex", batch: []Change{create(simple("example.com", "CNAME", 60, "other.example.net"))}, code: ICB,
			msg: "[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"},
		{name: "A next to CNAME", seed: []Change{create(cnameWWW)}, batch: []Change{create(www)}, code: ICB,
			msg: "[RRSet of type A with DNS name www.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.]"},
		{name: "CNAME next to A", seed: []Change{create(www)}, batch: []Change{create(cnameWWW)}, code: ICB,
			msg: "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]"},
		{name: "CNAME with two values", batch: []Change{create(simple("c.example.com", "CNAME", 60, "a.example.net", "b.example.net"))}, code: ICB,
			msg: "[RRSet of type CNAME with DNS name c.example.com. is not permitted to have more than one resource record]"},
		{name: "atomic swap CNAME to CloudFront alias", seed: []Change{create(cnameWWW)},
			batch: []Change{del(cnameWWW), create(alias("www.example.com", "A", CloudFrontZoneID, "d111.cloudfront.net", false))}},
		{name: "weighted CNAMEs at one name", batch: []Change{
			create(weighted("c.example.com", "CNAME", "a", 1, 60, "a.example.net")), create(weighted("c.example.com", "CNAME", "b", 1, 60, "b.example.net"))}},

		// Alias targets.
		{name: "CloudFront alias of type CNAME", batch: []Change{create(alias("c.example.com", "CNAME", CloudFrontZoneID, "d1.cloudfront.net", false))}, code: ICB,
			msg: "[Tried to create an alias that targets d1.cloudfront.net., type CNAME in zone Z2FDTNDATAQYW2, but CloudFront distributions can only be the target of A and AAAA alias records]"},
		{name: "CloudFront alias evaluating target health", batch: []Change{create(alias("www.example.com", "AAAA", CloudFrontZoneID, "d1.cloudfront.net", true))}, code: ICB,
			msg: "[Tried to create an alias that targets d1.cloudfront.net., type AAAA in zone Z2FDTNDATAQYW2, but EvaluateTargetHealth must be false for a CloudFront distribution]"},
		{name: "CloudFront zone id with a foreign name", batch: []Change{create(alias("www.example.com", "A", CloudFrontZoneID, "lb.example.net", false))}, code: ICB,
			msg: "[Tried to create an alias that targets lb.example.net., type A in zone Z2FDTNDATAQYW2, but the alias target name does not lie within the target zone]"},
		{name: "CloudFront alias in a private zone", private: true, batch: []Change{create(alias("www.example.com", "A", CloudFrontZoneID, "d1.cloudfront.net", false))}, code: ICB,
			msg: "[Tried to create an alias that targets d1.cloudfront.net., type A in zone Z2FDTNDATAQYW2, but CloudFront distributions cannot be alias targets in a private hosted zone]"},
		{name: "alias to a record of the zone", seed: []Change{create(www)}, batch: []Change{create(alias("example.com", "A", self, "www.example.com", true))}},
		{name: "alias to a record created earlier in the batch", batch: []Change{create(www), create(alias("example.com", "A", self, "WWW.example.com.", false))}},
		{name: "alias to a missing record", batch: []Change{create(alias("example.com", "A", self, "nope.example.com", false))}, code: ICB,
			msg: "[Tried to create an alias that targets nope.example.com., type A in zone " + self + ", but that target was not found]"},

		// Names.
		{name: "name outside the zone", batch: []Change{create(aRec("www.example.org", 60, "192.0.2.1"))}, code: ICB,
			msg: "[RRSet with DNS name www.example.org. is not permitted in zone example.com.]"},
		{name: "suffix is not enough", batch: []Change{create(aRec("badexample.com", 60, "192.0.2.1"))}, code: ICB,
			msg: "[RRSet with DNS name badexample.com. is not permitted in zone example.com.]"},
		{name: "empty label", batch: []Change{create(aRec("a..example.com", 60, "192.0.2.1"))}, code: ICB,
			msg: "[FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..example.com']"},
		{name: "label too long", batch: []Change{create(aRec(strings.Repeat("a", 64)+".example.com", 60, "192.0.2.1"))}, code: ICB,
			msg: "[FATAL problem: LabelTooLong (Label is too long) encountered with '" + strings.Repeat("a", 64) + "']"},
		{name: "wildcard is stored and shown escaped", seed: []Change{create(aRec("*.example.com", 60, "192.0.2.1"))},
			batch: []Change{create(aRec(`\052.example.com`, 60, "192.0.2.1"))}, code: ICB,
			msg: `[Tried to create resource record set [name='\052.example.com.', type='A'] but it already exists]`},
		{name: "star inside a name is a literal", batch: []Change{create(aRec("a*b.example.com", 60, "192.0.2.1")), create(aRec("x.*.example.com", 60, "192.0.2.1"))}},
		{name: "wildcard NS", batch: []Change{create(simple("*.example.com", "NS", 60, "ns1.example.net"))}, code: ICB,
			msg: `[RRSet of type NS with DNS name \052.example.com. is not permitted because wildcard NS records are not allowed]`},

		// Values.
		{name: "bad IPv4", batch: []Change{create(aRec("www.example.com", 60, "ns-738.awsdns-28.net."))}, code: ICB,
			msg: "[Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with 'ns-738.awsdns-28.net.']"},
		{name: "IPv6 in an A record", batch: []Change{create(aRec("www.example.com", 60, "2001:db8::1"))}, code: ICB,
			msg: "[Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '2001:db8::1']"},
		{name: "bad IPv6", batch: []Change{create(simple("www.example.com", "AAAA", 60, "192.0.2.1"))}, code: ICB,
			msg: "[Invalid Resource Record: FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '192.0.2.1']"},
		{name: "unquoted TXT", batch: []Change{create(simple("t.example.com", "TXT", 60, "hello"))}, code: ICB,
			msg: "[Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'hello']"},
		{name: "duplicate value", batch: []Change{create(aRec("www.example.com", 60, "192.0.2.1", "192.0.2.1"))}, code: ICB,
			msg: "[Duplicate Resource Record: '192.0.2.1']"},
		{name: "MX, SRV, CAA and multi-string TXT", batch: []Change{
			create(simple("example.com", "MX", 60, "10 mx.example.com.")),
			create(simple("_sip._tcp.example.com", "SRV", 60, "1 10 5060 sip.example.com.")),
			create(simple("example.com", "CAA", 60, `0 issue "amazon.com"`)),
			create(simple("t.example.com", "TXT", 60, `"v=spf1" "-all"`, `"with \"quote\""`))}},

		// Batch-wide limits.
		{name: "1001 records", batch: thousandOne, code: ICB, msg: "[Number of records limit of 1000 exceeded.]"},
		{name: "UPSERT counts double", batch: upsert501, code: ICB, msg: "[Number of records limit of 1000 exceeded.]"},
		{name: "32000 value characters", batch: []Change{create(simple("t.example.com", "TXT", 60, bigTXT...))}, code: ICB,
			msg: "[Number of characters limit of 32000 exceeded.]"},

		// Several problems are listed together, in change order.
		{name: "every message of the batch", seed: []Change{create(www)},
			batch: []Change{create(www), del(aRec("gone.example.com", 60, "192.0.2.1")), create(simple("example.com", "CNAME", 60, "x.example.net"))}, code: ICB,
			msg: "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists, " +
				"Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found, " +
				"RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"},

		// The zone's own records.
		{name: "delete without values", batch: []Change{{Action: ActionDelete, Set: RecordSet{Name: "example.com", Type: "SOA"}}}, code: II},
		{name: "health check must exist", batch: []Change{create(func() RecordSet { r := www; r.HealthCheckID = "nope"; return r }())},
			status: http.StatusNotFound, code: "NoSuchHealthCheck", msg: "No health check found with ID: nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newLab(t, Options{})
			zid, err := s.CreateZone("", "example.com", tc.private)
			if err != nil {
				t.Fatal(err)
			}
			fix := func(cs []Change) []Change {
				out := make([]Change, len(cs))
				for i, c := range cs {
					out[i] = Change{Action: c.Action, Set: c.Set.clone()}
					if a := out[i].Set.AliasTarget; a != nil && a.HostedZoneID == self {
						a.HostedZoneID = zid
					}
				}
				return out
			}
			if len(tc.seed) > 0 {
				mustApply(t, s, zid, fix(tc.seed)...)
			}
			before, _ := s.Records(zid)
			_, err = s.ApplyChanges("", zid, fix(tc.batch))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			wantAWSError(t, err, tc.status, tc.code, strings.ReplaceAll(tc.msg, self, zid))
			after, _ := s.Records(zid)
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("a rejected batch changed the zone")
			}
		})
	}
}

// TestDeleteApexRecords checks the zone's own SOA and NS can be changed
// but not removed.
func TestDeleteApexRecords(t *testing.T) {
	s, _ := newLab(t, Options{})
	zid := mustZone(t, s, "example.com")
	recs, _ := s.Records(zid)
	var soa, ns RecordSet
	for _, r := range recs {
		switch r.Type {
		case "SOA":
			soa = r
		case "NS":
			ns = r
		}
	}
	_, err := s.ApplyChanges("", zid, []Change{del(soa)})
	wantAWSError(t, err, 400, "InvalidChangeBatch", "[A HostedZone must contain exactly one SOA record.]")
	_, err = s.ApplyChanges("", zid, []Change{del(ns)})
	wantAWSError(t, err, 400, "InvalidChangeBatch", "[A HostedZone must contain at least one NS record for the zone itself.]")
	ns.TTL = Int64(3600)
	mustApply(t, s, zid, upsert(ns))
}

// TestAtomicBatchLeavesNoTrace: a batch with one bad change applies
// nothing, creates no change and records no history.
func TestAtomicBatchLeavesNoTrace(t *testing.T) {
	s, _ := newLab(t, Options{})
	zid := mustZone(t, s, "example.com")
	mustApply(t, s, zid, create(aRec("old.example.com", 60, "192.0.2.1")))
	before, _ := s.Records(zid)
	hist := len(s.env.History.List(awsapiFilter()))
	changes := len(s.changes)

	_, err := s.ApplyChanges("", zid, []Change{
		create(aRec("new.example.com", 60, "192.0.2.2")),
		del(aRec("old.example.com", 60, "192.0.2.1")),
		create(aRec("old.example.com", 60, "192.0.2.3")),
		create(aRec("new.example.com", 60, "192.0.2.4")), // duplicate of the first change: the batch fails
	})
	wantAWSError(t, err, 400, "InvalidChangeBatch", "[Tried to create resource record set [name='new.example.com.', type='A'] but it already exists]")
	after, _ := s.Records(zid)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("zone changed:\n%v\n%v", before, after)
	}
	if n := len(s.env.History.List(awsapiFilter())); n != hist {
		t.Fatalf("history grew from %d to %d", hist, n)
	}
	if len(s.changes) != changes {
		t.Fatalf("a change was recorded for a rejected batch")
	}
	served, _ := s.ServedRecords(zid)
	for _, r := range served {
		if r.Name == "new.example.com." {
			t.Fatal("rejected record served")
		}
	}
}
