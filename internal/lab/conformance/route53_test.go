package conformance

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

const cloudFrontZone = "Z2FDTNDATAQYW2"

// rrView is a record set as compared: values in the order returned, name
// servers replaced by placeholders.
type rrView struct {
	Name          string     `json:"name"`
	Type          string     `json:"type"`
	SetIdentifier string     `json:"set,omitempty"`
	Weight        *int64     `json:"weight,omitempty"`
	TTL           *int64     `json:"ttl,omitempty"`
	Values        []string   `json:"values,omitempty"`
	Alias         *aliasView `json:"alias,omitempty"`
}

type aliasView struct {
	Zone, DNSName string
	Evaluate      bool
}

func (r *run) rrset(rs types.ResourceRecordSet) rrView {
	v := rrView{Name: str(rs.Name), Type: string(rs.Type), SetIdentifier: str(rs.SetIdentifier), Weight: rs.Weight, TTL: rs.TTL}
	for _, rr := range rs.ResourceRecords {
		val := str(rr.Value)
		switch rs.Type {
		case types.RRTypeNs:
			val = r.id("ns", strings.TrimSuffix(val, "."))
		case types.RRTypeSoa:
			// The primary name server is generated; the rest is the SOA
			// AWS documents, compared as is.
			if f := strings.Fields(val); len(f) == 7 {
				f[0] = r.id("ns", strings.TrimSuffix(f[0], "."))
				val = strings.Join(f, " ")
			}
		}
		v.Values = append(v.Values, val)
	}
	if a := rs.AliasTarget; a != nil {
		v.Alias = &aliasView{Zone: str(a.HostedZoneId), DNSName: str(a.DNSName), Evaluate: a.EvaluateTargetHealth}
		if r.mend {
			// moto echoes an alias target without its final dot and gives
			// alias sets a TTL of 0; both are asserted in r53/alias-record.
			if !strings.HasSuffix(v.Alias.DNSName, ".") {
				v.Alias.DNSName += "."
			}
			if v.TTL != nil && *v.TTL == 0 {
				v.TTL = nil
			}
		}
	}
	return v
}

func (r *run) zoneID(raw string) string {
	return "/hostedzone/" + r.id("zone", strings.TrimPrefix(raw, "/hostedzone/"))
}

// changeView is an accepted change as compared in general: that it was
// accepted, and the comment it carried. Ids and statuses are compared in
// their own steps (see changeTracking), where moto's departures are named.
type changeView struct {
	Accepted bool   `json:"accepted"`
	Comment  string `json:"comment,omitempty"`
}

func (r *run) change(ci *types.ChangeInfo) changeView {
	if ci == nil {
		return changeView{}
	}
	r.changeIDs = append(r.changeIDs, str(ci.Id))
	r.statuses = append(r.statuses, string(ci.Status))
	return changeView{Accepted: true, Comment: str(ci.Comment)}
}

// zone creates a hosted zone and returns its id; everything after needs it.
func (r *run) zone(name string) string {
	out, err := r.p.r53.CreateHostedZone(r.ctx, &route53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String("ref-" + name)})
	r.need("create zone "+name, err)
	return str(out.HostedZone.Id)
}

func (r *run) changes(step, zone string, cs ...types.Change) bool {
	out, err := r.p.r53.ChangeResourceRecordSets(r.ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone),
		ChangeBatch:  &types.ChangeBatch{Changes: cs},
	})
	if err != nil {
		return r.record(step, nil, err)
	}
	return r.record(step, r.change(out.ChangeInfo), nil)
}

func create(rs types.ResourceRecordSet) types.Change {
	return types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &rs}
}

func upsert(rs types.ResourceRecordSet) types.Change {
	return types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rs}
}

func del(rs types.ResourceRecordSet) types.Change {
	return types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: &rs}
}

func plain(name string, typ types.RRType, ttl int64, values ...string) types.ResourceRecordSet {
	rs := types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rs
}

func weighted(name, set string, weight, ttl int64, value string) types.ResourceRecordSet {
	rs := plain(name, types.RRTypeA, ttl, value)
	rs.SetIdentifier, rs.Weight = aws.String(set), aws.Int64(weight)
	return rs
}

func cdnAlias(name, target string) types.ResourceRecordSet {
	return types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, AliasTarget: &types.AliasTarget{
		HostedZoneId: aws.String(cloudFrontZone), DNSName: aws.String(target), EvaluateTargetHealth: false,
	}}
}

type pageView struct {
	Sets         []rrView `json:"sets"`
	Truncated    bool     `json:"truncated"`
	MaxItems     int32    `json:"max"`
	NextName     string   `json:"nextName,omitempty"`
	NextType     string   `json:"nextType,omitempty"`
	NextSetIdent string   `json:"nextSet,omitempty"`
}

// list records one ListResourceRecordSets page.
func (r *run) list(step string, in *route53.ListResourceRecordSetsInput) *route53.ListResourceRecordSetsOutput {
	out, err := r.p.r53.ListResourceRecordSets(r.ctx, in)
	if err != nil {
		r.record(step, nil, err)
		return nil
	}
	r.record(step, r.page(out), nil)
	return out
}

func (r *run) page(out *route53.ListResourceRecordSetsOutput) pageView {
	p := pageView{Truncated: out.IsTruncated, MaxItems: aws.ToInt32(out.MaxItems), NextName: str(out.NextRecordName), NextType: string(out.NextRecordType), NextSetIdent: str(out.NextRecordIdentifier)}
	for _, rs := range out.ResourceRecordSets {
		p.Sets = append(p.Sets, r.rrset(rs))
	}
	return p
}

// paginate walks the whole listing maxitems=2 at a time, following the
// markers as the SDK paginator would, and records every page as one
// observation. The walk stops after a bound so an emulator that never stops
// truncating cannot hang the test.
func (r *run) paginate(step, zone string) {
	var pages []pageView
	var identifiers []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(2)}
	for range 12 {
		out, err := r.p.r53.ListResourceRecordSets(r.ctx, in)
		if err != nil {
			r.record(step, nil, err)
			return
		}
		p := r.page(out)
		for i := range p.Sets {
			if p.Sets[i].Type == "SOA" {
				p.Sets[i].Values = nil // compared in r53/default-records
			}
		}
		// The identifier marker is compared on its own (in
		// step+"-identifiers"): moto never sends one.
		identifiers = append(identifiers, p.NextSetIdent)
		p.NextSetIdent = ""
		pages = append(pages, p)
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	r.record(step, pages, nil)
	r.record(step+"-identifiers", identifiers, nil)
}

// route53Basics is the life of one zone as cutover uses it: default
// records, every record shape a cutover touches, paging, the atomic
// CNAME→alias swap, UPSERT, change tracking, and the refusals cutover relies
// on to notice a changed world.
func route53Basics(r *run) {
	c := r.p.r53
	created, err := c.CreateHostedZone(r.ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("ref-1")})
	r.need("create zone", err)
	zone := str(created.HostedZone.Id)
	r.record("r53/create-zone", map[string]any{
		"id": r.zoneID(zone), "name": str(created.HostedZone.Name), "ref": str(created.HostedZone.CallerReference),
		"private":     created.HostedZone.Config != nil && created.HostedZone.Config.PrivateZone,
		"count":       aws.ToInt64(created.HostedZone.ResourceRecordSetCount),
		"change":      r.change(created.ChangeInfo),
		"nameServers": r.nameServers(created.DelegationSet),
		"location":    strings.Replace(str(created.Location), strings.TrimPrefix(zone, "/hostedzone/"), "{id}", 1),
	}, nil)

	got, err := c.GetHostedZone(r.ctx, &route53.GetHostedZoneInput{Id: aws.String(zone)})
	var gv any
	if err == nil {
		gv = map[string]any{"id": r.zoneID(str(got.HostedZone.Id)), "name": str(got.HostedZone.Name), "count": aws.ToInt64(got.HostedZone.ResourceRecordSetCount), "nameServers": r.nameServers(got.DelegationSet)}
	}
	r.record("r53/get-zone", gv, err)
	r.zoneMetadata(zone)
	r.delegationSets()
	r.list("r53/default-records", &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})

	r.changes("r53/create-records", zone,
		create(plain("www.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.2")),
		create(plain("blog.example.com", types.RRTypeCname, 60, "www.example.com")),
		create(plain("example.com", types.RRTypeTxt, 300, `"v=spf1 -all"`)),
		create(plain("example.com", types.RRTypeMx, 300, "10 mail.example.com")),
		create(weighted("api.example.com", "blue", 100, 60, "192.0.2.10")),
		create(weighted("api.example.com", "green", 0, 60, "192.0.2.20")),
		create(cdnAlias("cdn.example.com", "d111111abcdef8.cloudfront.net")),
	)
	r.exact(func() {
		r.list("r53/alias-record", &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String("cdn.example.com"), MaxItems: aws.Int32(1)})
	})
	r.paginate("r53/list-paginated", zone)
	r.list("r53/list-from-identifier", &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		StartRecordName: aws.String("api.example.com"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("green"), MaxItems: aws.Int32(1)})

	// The documented atomic swap: one batch deletes the CNAME and creates
	// an alias of the same name.
	r.changes("r53/swap-cname-for-alias", zone,
		del(plain("blog.example.com", types.RRTypeCname, 60, "www.example.com")),
		create(cdnAlias("blog.example.com", "d222222abcdef8.cloudfront.net")),
	)
	r.list("r53/after-swap", &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String("blog.example.com"), MaxItems: aws.Int32(1)})

	out, err := c.ChangeResourceRecordSets(r.ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone),
		ChangeBatch: &types.ChangeBatch{Comment: aws.String("lower the ttl"), Changes: []types.Change{
			upsert(plain("www.example.com", types.RRTypeA, 60, "192.0.2.3")),
		}},
	})
	r.need("upsert", err)
	r.exact(func() { r.record("r53/upsert-comment", r.change(out.ChangeInfo), nil) })
	r.list("r53/after-upsert", &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String("www.example.com"), StartRecordType: types.RRTypeA, MaxItems: aws.Int32(1)})

	r.p.settle()
	ch, err := c.GetChange(r.ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
	var cv any
	if err == nil {
		cv = map[string]string{"status": string(ch.ChangeInfo.Status), "sameID": fmt.Sprint(str(ch.ChangeInfo.Id) == str(out.ChangeInfo.Id))}
	}
	r.record("r53/get-change", cv, err)
	r.changeTracking()

	_, err = c.GetChange(r.ctx, &route53.GetChangeInput{Id: aws.String("C0000000000000000000")})
	r.record("r53/get-change-unknown", map[string]string{"status": "answered"}, err)

	// A CREATE identical to an earlier one, of a set that still exists.
	r.changes("r53/create-duplicate", zone, create(cdnAlias("cdn.example.com", "d111111abcdef8.cloudfront.net")))
	// A CREATE of a set that exists but was never created in this form.
	r.changes("r53/create-existing", zone, create(plain("www.example.com", types.RRTypeA, 60, "192.0.2.3")))
	r.changes("r53/delete-missing", zone, del(plain("nothere.example.com", types.RRTypeA, 60, "192.0.2.9")))

	_, err = c.DeleteHostedZone(r.ctx, &route53.DeleteHostedZoneInput{Id: aws.String(zone)})
	r.recordCode("r53/delete-zone-not-empty", map[string]string{"status": "deleted"}, err)
	_, err = c.GetHostedZone(r.ctx, &route53.GetHostedZoneInput{Id: aws.String("Z0000000000000000000")})
	r.record("r53/get-zone-unknown", map[string]string{"status": "answered"}, err)

	// What follows are refusals moto does not make; each may leave moto's
	// zone changed, so they come last.
	r.changes("r53/weighted-ttl-mismatch", zone, upsert(weighted("api.example.com", "blue", 100, 300, "192.0.2.10")))
	r.changes("r53/cname-at-apex", zone, create(plain("example.com", types.RRTypeCname, 300, "www.example.com")))
	// The TTL and values www had when it was created, not its current ones.
	r.changes("r53/delete-stale-values", zone, del(plain("www.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.2")))
}

// zoneMetadata tags the zone (add, overwrite, remove) and updates its
// comment, as a test suite does around its record sets.
func (r *run) zoneMetadata(zone string) {
	c, bare := r.p.r53, strings.TrimPrefix(zone, "/hostedzone/")
	_, err := c.ChangeTagsForResource(r.ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare),
		AddTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("env"), Value: aws.String("prod")}}})
	r.need("tag zone", err)
	_, err = c.ChangeTagsForResource(r.ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare),
		AddTags: []types.Tag{{Key: aws.String("env"), Value: aws.String("staging")}}, RemoveTagKeys: []string{"team"}})
	r.need("retag zone", err)
	tags, err := c.ListTagsForResource(r.ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare)})
	var tv any
	if err == nil {
		var kv []string
		for _, t := range tags.ResourceTagSet.Tags {
			kv = append(kv, str(t.Key)+"="+str(t.Value))
		}
		tv = map[string]any{"type": string(tags.ResourceTagSet.ResourceType), "tags": kv}
	}
	r.record("r53/zone-tags", tv, err)
	up, err := c.UpdateHostedZoneComment(r.ctx, &route53.UpdateHostedZoneCommentInput{Id: aws.String(zone), Comment: aws.String("moved by cutover")})
	var uv any
	if err == nil {
		uv = map[string]string{"comment": str(up.HostedZone.Config.Comment)}
	}
	r.record("r53/update-comment", uv, err)
}

// delegationSets creates a reusable delegation set and a zone that uses it,
// then tries to delete the set while the zone still uses it.
func (r *run) delegationSets() {
	c := r.p.r53
	set, err := c.CreateReusableDelegationSet(r.ctx, &route53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds-1")})
	r.need("create delegation set", err)
	z, err := c.CreateHostedZone(r.ctx, &route53.CreateHostedZoneInput{Name: aws.String("shared.example.net"), CallerReference: aws.String("ref-ds"), DelegationSetId: set.DelegationSet.Id})
	var zv any
	if err == nil {
		zv = map[string]any{
			"setIdPrefix": strings.HasPrefix(str(set.DelegationSet.Id), "/delegationset/"),
			"servers":     len(set.DelegationSet.NameServers),
			"sameServers": strings.Join(z.DelegationSet.NameServers, ",") == strings.Join(set.DelegationSet.NameServers, ","),
		}
	}
	r.record("r53/zone-with-delegation-set", zv, err)
	_, err = c.DeleteReusableDelegationSet(r.ctx, &route53.DeleteReusableDelegationSetInput{Id: set.DelegationSet.Id})
	r.recordCode("r53/delete-delegation-set-in-use", map[string]string{"status": "deleted"}, err)
}

func (r *run) nameServers(ds *types.DelegationSet) []string {
	if ds == nil {
		return nil
	}
	var ns []string
	for _, n := range ds.NameServers {
		ns = append(ns, r.id("ns", strings.TrimSuffix(n, ".")))
	}
	return ns
}

// changeTracking records what every accepted change reported when it was
// submitted: its status, and whether each change got an id of its own.
func (r *run) changeTracking() {
	distinct := map[string]bool{}
	for _, id := range r.changeIDs {
		distinct[id] = true
	}
	r.record("r53/change-status-at-submit", r.statuses, nil)
	r.record("r53/change-ids", map[string]int{"changes": len(r.changeIDs), "distinctIDs": len(distinct)}, nil)
}
