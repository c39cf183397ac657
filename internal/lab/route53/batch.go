package route53

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Batch limits (reference A2, R53-Q): ResourceRecord elements and value
// characters summed over one request, UPSERT counting double.
const (
	maxBatchRecords    = 1000
	maxBatchValueChars = 32000
	maxWeightedSets    = 100
)

var rrTypes = []string{"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"}

var latencyRegions = []string{"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "eu-north-1", "sa-east-1", "cn-north-1", "cn-northwest-1", "ap-east-1", "me-south-1", "me-central-1", "ap-south-1", "ap-south-2", "af-south-1", "eu-south-1", "eu-south-2", "ap-southeast-4", "il-central-1", "ca-west-1", "ap-southeast-5", "mx-central-1", "ap-southeast-7", "us-gov-east-1", "us-gov-west-1", "ap-east-2", "ap-southeast-6", "eusc-de-east-1"}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

func errInvalidInput(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

// invalidChangeBatch renders messages the way Route 53 does today:
// "[msg1, msg2]" in the Message of the ErrorResponse envelope.
func invalidChangeBatch(msgs []string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidChangeBatch", "[%s]", strings.Join(msgs, ", "))
}

// validateInput applies the checks Route 53 answers with InvalidInput:
// first the model constraints (one "N validation errors detected" message),
// then the "Invalid request: …" shape rules, first failure wins.
func validateInput(changes []Change, comment string) *awsapi.Error {
	var model violations
	if len(comment) > 256 {
		model.add("changeBatch.comment", comment, "Member must have length less than or equal to 256")
	}
	if len(changes) == 0 {
		model.add("changeBatch.changes", "[]", "Member must have length greater than or equal to 1")
	}
	for i, c := range changes {
		model.change(i, c)
	}
	if len(model) == 1 {
		return errInvalidInput("1 validation error detected: %s", model[0])
	}
	if len(model) > 1 {
		return errInvalidInput("%d validation errors detected: %s", len(model), strings.Join(model, "; "))
	}
	for _, c := range changes {
		if err := shapeError(c); err != nil {
			return err
		}
	}
	return nil
}

// violations are the model-constraint messages of one request, in order.
type violations []string

func (v *violations) add(path, value, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: %s", value, path, constraint))
}

// change checks the model constraints of the i-th change of the batch.
func (v *violations) change(i int, c Change) {
	bad := v.add
	p := fmt.Sprintf("changeBatch.changes.%d.member", i+1)
	rs := c.Set
	if !oneOf(c.Action, []string{ActionCreate, ActionDelete, ActionUpsert}) {
		bad(p+".action", c.Action, "Member must satisfy enum value set: [CREATE, DELETE, UPSERT]")
	}
	p += ".resourceRecordSet"
	if !oneOf(rs.Type, rrTypes) {
		bad(p+".type", rs.Type, "Member must satisfy enum value set: ["+strings.Join(rrTypes, ", ")+"]")
	}
	if len(rs.Name) > 1024 {
		bad(p+".name", rs.Name, "Member must have length less than or equal to 1024")
	}
	if len(rs.SetIdentifier) > 128 {
		bad(p+".setIdentifier", rs.SetIdentifier, "Member must have length less than or equal to 128")
	}
	if rs.Weight != nil && *rs.Weight < 0 {
		bad(p+".weight", strconv.FormatInt(*rs.Weight, 10), "Member must have value greater than or equal to 0")
	}
	if rs.Weight != nil && *rs.Weight > 255 {
		bad(p+".weight", strconv.FormatInt(*rs.Weight, 10), "Member must have value less than or equal to 255")
	}
	if rs.TTL != nil && *rs.TTL < 0 {
		bad(p+".tTL", strconv.FormatInt(*rs.TTL, 10), "Member must have value greater than or equal to 0")
	}
	if rs.TTL != nil && *rs.TTL > 2147483647 {
		bad(p+".tTL", strconv.FormatInt(*rs.TTL, 10), "Member must have value less than or equal to 2147483647")
	}
	if rs.Region != "" && !oneOf(rs.Region, latencyRegions) {
		bad(p+".region", rs.Region, "Member must satisfy enum value set: ["+strings.Join(latencyRegions, ", ")+"]")
	}
	if rs.Failover != "" && rs.Failover != FailoverPrimary && rs.Failover != FailoverSecondary {
		bad(p+".failover", rs.Failover, "Member must satisfy enum value set: [PRIMARY, SECONDARY]")
	}
	if len(rs.HealthCheckID) > 64 {
		bad(p+".healthCheckId", rs.HealthCheckID, "Member must have length less than or equal to 64")
	}
	for j, v := range rs.Records {
		if len(v) > 4000 {
			bad(fmt.Sprintf("%s.resourceRecords.%d.member.value", p, j+1), v, "Member must have length less than or equal to 4000")
		}
	}
	if g := rs.GeoLocation; g != nil {
		if g.ContinentCode != "" && len(g.ContinentCode) != 2 {
			bad(p+".geoLocation.continentCode", g.ContinentCode, "Member must have length less than or equal to 2")
		}
		if len(g.CountryCode) > 2 {
			bad(p+".geoLocation.countryCode", g.CountryCode, "Member must have length less than or equal to 2")
		}
		if len(g.SubdivisionCode) > 3 {
			bad(p+".geoLocation.subdivisionCode", g.SubdivisionCode, "Member must have length less than or equal to 3")
		}
	}
	if a := rs.AliasTarget; a != nil && len(canonicalID(a.HostedZoneID)) > 32 {
		bad(p+".aliasTarget.hostedZoneId", a.HostedZoneID, "Member must have length less than or equal to 32")
	}
}

// shapeError is the first "Invalid request: …" rule a change breaks, or nil.
func shapeError(c Change) *awsapi.Error {
	rs := c.Set
	setID := "null"
	if rs.SetIdentifier != "" {
		setID = rs.SetIdentifier
	}
	where := fmt.Sprintf("in Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", c.Action, rs.Name, rs.Type, setID)
	if rs.Name == "" {
		return errInvalidInput("Invalid request: Missing field 'Name' %s", where)
	}
	// Exactly one of AliasTarget / (TTL and ResourceRecords). A lone TTL
	// or lone ResourceRecords completes none of the alternatives.
	n := 0
	if rs.AliasTarget != nil {
		n++
	}
	if rs.TTL != nil && rs.Records != nil {
		n++
	} else if rs.AliasTarget != nil && (rs.TTL != nil || rs.Records != nil) {
		n++ // alias plus a partial value set: still "more than one"
	}
	switch {
	case n == 0:
		return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none %s", where)
	case n > 1:
		return errInvalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one %s", where)
	}
	policies := 0
	for _, set := range []bool{rs.Weight != nil, rs.Region != "", rs.Failover != "", rs.GeoLocation != nil, rs.MultiValueAnswer != nil} {
		if set {
			policies++
		}
	}
	switch {
	case policies > 0 && rs.SetIdentifier == "":
		return errInvalidInput("Invalid request: Missing field 'SetIdentifier' %s", where)
	case policies == 0 && rs.SetIdentifier != "":
		return errInvalidInput("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, or CidrRoutingConfig], but found none %s", where)
	case policies > 1:
		return errInvalidInput("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, or CidrRoutingConfig], but found more than one %s", where)
	}
	if a := rs.AliasTarget; a != nil && (a.HostedZoneID == "" || a.DNSName == "") {
		return errInvalidInput("Invalid request: Missing field 'AliasTarget.HostedZoneId' or 'AliasTarget.DNSName' %s", where)
	}
	return nil
}

// setDesc is the bracketed record description of the "Tried to …" messages.
func setDesc(rs RecordSet) string {
	if rs.SetIdentifier != "" {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", encodeName(rs.Name), rs.Type, rs.SetIdentifier)
	}
	return fmt.Sprintf("[name='%s', type='%s']", encodeName(rs.Name), rs.Type)
}

// batchCheck is one run of the change-batch rules against a working copy of
// a zone. It is the single validation path of ChangeResourceRecordSets and
// of the Go API's ApplyChanges.
type batchCheck struct {
	s       *Service
	z       *zone
	account string
	work    *recordIndex
	msgs    []string
	applied []Change // normalized, in order, only those that passed
}

func (b *batchCheck) fail(format string, args ...any) {
	b.msgs = append(b.msgs, fmt.Sprintf(format, args...))
}

// validateBatch checks changes in order against a working copy of z and
// returns the working copy and the normalized changes when every rule holds.
// Nothing in z is touched: the caller commits on success, so a rejected
// batch leaves no trace.
func (s *Service) validateBatch(z *zone, account string, changes []Change) (*recordIndex, []Change, *awsapi.Error) {
	// Health checks named by the batch must exist in the caller's account.
	for _, c := range changes {
		if c.Action == ActionDelete || c.Set.HealthCheckID == "" {
			continue
		}
		if hc := s.checks[c.Set.HealthCheckID]; hc == nil || hc.account != account {
			return nil, nil, awsapi.Errorf(http.StatusNotFound, "NoSuchHealthCheck", "No health check found with ID: %s", c.Set.HealthCheckID)
		}
	}
	// Request-wide size limits.
	records, chars := 0, 0
	for _, c := range changes {
		mult := 1
		if c.Action == ActionUpsert {
			mult = 2
		}
		records += mult * len(c.Set.Records)
		for _, v := range c.Set.Records {
			chars += mult * len(v)
		}
	}
	var limits []string
	if records > maxBatchRecords {
		limits = append(limits, fmt.Sprintf("Number of records limit of %d exceeded.", maxBatchRecords))
	}
	if chars > maxBatchValueChars {
		limits = append(limits, fmt.Sprintf("Number of characters limit of %d exceeded.", maxBatchValueChars))
	}
	if len(limits) > 0 {
		return nil, nil, invalidChangeBatch(limits)
	}

	b := &batchCheck{s: s, z: z, account: account, work: z.records.clone()}
	for _, c := range changes {
		b.change(c)
	}
	b.groupRules()
	b.apexRules()
	if n := b.work.len(); n > maxRecordsInZone && n > z.records.len() {
		b.fail("The hosted zone %s has reached its limit of %d resource record sets.", encodeName(z.name), maxRecordsInZone)
	}
	if len(b.msgs) > 0 {
		return nil, nil, invalidChangeBatch(dedupe(b.msgs))
	}
	return b.work, b.applied, nil
}

func dedupe(msgs []string) []string {
	seen := map[string]bool{}
	out := msgs[:0:0]
	for _, m := range msgs {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// change checks one change against the working copy and, when it passes,
// applies it there so later changes in the batch see its effect.
func (b *batchCheck) change(c Change) {
	rs, ok := b.normalize(c.Set)
	if !ok {
		return
	}
	zoneName := b.z.name
	switch c.Action {
	case ActionDelete:
		cur, exists := b.work.get(rs.key())
		if !exists {
			b.fail("Tried to delete resource record set %s but it was not found", setDesc(rs))
			return
		}
		if !sameSet(cur, rs) {
			b.fail("Tried to delete resource record set %s but the values provided do not match the current values", setDesc(rs))
			return
		}
		b.work.del(rs.key())
		b.applied = append(b.applied, Change{Action: ActionDelete, Set: cur})
		return
	case ActionCreate:
		if _, exists := b.work.get(rs.key()); exists {
			b.fail("Tried to create resource record set %s but it already exists", setDesc(rs))
			return
		}
	}
	before := len(b.msgs)
	b.values(rs)
	name := encodeName(rs.Name)
	if rs.Type == "CNAME" && rs.Name == zoneName {
		b.fail("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", name, encodeName(zoneName))
	}
	if isWildcard(rs.Name) && rs.Type == "NS" {
		b.fail("RRSet of type NS with DNS name %s is not permitted because wildcard NS records are not allowed", name)
	}
	if rs.Type == "SOA" && (rs.Name != zoneName || rs.SetIdentifier != "") {
		b.fail("RRSet of type SOA with DNS name %s is not permitted: the only SOA record is the one at the apex of zone %s", name, encodeName(zoneName))
	}
	if rs.Type == "NS" && rs.Name == zoneName && rs.SetIdentifier != "" {
		b.fail("RRSet of type NS with DNS name %s is not permitted: the apex NS record cannot use a routing policy", name)
	}
	b.alias(rs)
	// Same-name conflicts, against the working copy minus this key. A
	// CNAME at the apex has been refused already.
	for _, o := range b.work.atName(rs.Name) {
		if o.key() == rs.key() || (rs.Type == "CNAME" && rs.Name == zoneName) {
			continue
		}
		if rs.Type == "CNAME" && o.Type != "CNAME" {
			b.fail("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", name, encodeName(zoneName))
			break
		}
		if rs.Type != "CNAME" && o.Type == "CNAME" {
			b.fail("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", rs.Type, name, encodeName(zoneName))
			break
		}
	}
	// One routing policy per name and type.
	for _, o := range b.work.atName(rs.Name) {
		if o.Type != rs.Type || o.key() == rs.key() {
			continue
		}
		kind := rs.policyKind()
		if kind == "" {
			b.fail("RRSet with DNS name %s, type %s cannot be created as other RRSets exist with the same name and type.", name, rs.Type)
			break
		}
		if o.policyKind() != kind {
			if kind == "multivalue answer" {
				b.fail("RRSet with DNS name %s, type %s, SetIdentifier \"%s\" cannot be created because a non multivalue answer rrset exists with the same name and type.", name, rs.Type, rs.SetIdentifier)
			} else {
				b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a non-%s set exists with the same name and type.", name, rs.Type, rs.SetIdentifier, kind)
			}
			break
		}
	}
	if len(b.msgs) > before {
		return
	}
	b.work.put(rs)
	b.applied = append(b.applied, Change{Action: c.Action, Set: rs})
}

// normalize parses the names of a set and checks that it lies in the zone.
func (b *batchCheck) normalize(in RecordSet) (RecordSet, bool) {
	rs := in.clone()
	name, problem := parseName(in.Name)
	if problem != "" {
		b.fail("%s", problem)
		return rs, false
	}
	rs.Name = name
	if !within(name, b.z.name) {
		b.fail("RRSet with DNS name %s is not permitted in zone %s", encodeName(name), encodeName(b.z.name))
		return rs, false
	}
	if a := rs.AliasTarget; a != nil {
		a.HostedZoneID = canonicalID(a.HostedZoneID)
		dn, problem := parseName(a.DNSName)
		if problem != "" {
			b.fail("%s", problem)
			return rs, false
		}
		a.DNSName = dn
	}
	if rs.GeoLocation != nil {
		g := rs.GeoLocation
		g.ContinentCode = strings.ToUpper(g.ContinentCode)
		g.CountryCode = strings.ToUpper(g.CountryCode)
		g.SubdivisionCode = strings.ToUpper(g.SubdivisionCode)
	}
	return rs, true
}

// values checks the record values of a CREATE or UPSERT.
func (b *batchCheck) values(rs RecordSet) {
	seen := map[string]bool{}
	for _, v := range rs.Records {
		if seen[v] {
			b.fail("Duplicate Resource Record: '%s'", v)
			continue
		}
		seen[v] = true
		if p := valueProblem(rs.Type, v); p != "" {
			b.fail("Invalid Resource Record: FATAL problem: %s encountered with '%s'", p, v)
		}
	}
	if (rs.Type == "CNAME" || rs.Type == "SOA") && len(rs.Records) > 1 {
		b.fail("RRSet of type %s with DNS name %s is not permitted to have more than one resource record", rs.Type, encodeName(rs.Name))
	}
	if len(rs.Records) > 400 {
		b.fail("RRSet with DNS name %s, type %s cannot have more than 400 resource records", encodeName(rs.Name), rs.Type)
	}
}

// valueProblem returns the "Code (explanation)" part of Route 53's
// "Invalid Resource Record" message for a malformed value, or "".
func valueProblem(typ, v string) string {
	switch typ {
	case "A":
		ip := net.ParseIP(v)
		if ip == nil || ip.To4() == nil || strings.Contains(v, ":") {
			return "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"
		}
	case "AAAA":
		if ip := net.ParseIP(v); ip == nil || !strings.Contains(v, ":") {
			return "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"
		}
	case "TXT", "SPF":
		strs, ok := parseCharacterStrings(v)
		if !ok {
			return "InvalidCharacterString (Value should be enclosed in quotation marks)"
		}
		for _, s := range strs {
			if len(s) > 255 {
				return "CharacterStringTooLong (Value is too long)"
			}
		}
	case "CNAME", "NS", "PTR":
		if _, p := parseName(v); p != "" {
			return "DomainLabelEmpty (Value is not a valid domain name)"
		}
	case "MX":
		f := strings.Fields(v)
		if len(f) != 2 {
			return "MXRRDATANotTwoFields (Value should contain a priority and a domain name)"
		}
		if _, err := strconv.ParseUint(f[0], 10, 16); err != nil {
			return "MXRRDATAIllegalPriority (Priority should be an integer between 0 and 65535)"
		}
	case "SRV":
		f := strings.Fields(v)
		if len(f) != 4 {
			return "SRVRRDATANotFourFields (Value should contain priority, weight, port and target)"
		}
		for _, n := range f[:3] {
			if _, err := strconv.ParseUint(n, 10, 16); err != nil {
				return "SRVRRDATAIllegalNumber (Priority, weight and port should be integers between 0 and 65535)"
			}
		}
	case "CAA":
		f := strings.Fields(v)
		if len(f) < 3 {
			return "CAARRDATANotThreeFields (Value should contain flags, tag and value)"
		}
		if _, err := strconv.ParseUint(f[0], 10, 8); err != nil {
			return "CAARRDATAIllegalFlags (Flags should be an integer between 0 and 255)"
		}
	case "SOA":
		if len(strings.Fields(v)) != 7 {
			return "SOARRDATANotSevenFields (Value should contain seven fields)"
		}
	}
	return ""
}

// parseCharacterStrings splits a TXT value in Route 53's presentation form
// ("abc" "def", with \" \\ and \DDD escapes) into its decoded strings.
func parseCharacterStrings(v string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
			i++
		}
		if i == len(v) {
			break
		}
		if v[i] != '"' {
			return nil, false
		}
		i++
		var b strings.Builder
		closed := false
		for i < len(v) {
			c := v[i]
			if c == '"' {
				closed = true
				i++
				break
			}
			if c == '\\' && i+1 < len(v) {
				if i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
					n, _ := strconv.Atoi(v[i+1 : i+4])
					if n > 255 {
						return nil, false
					}
					b.WriteByte(byte(n))
					i += 4
					continue
				}
				b.WriteByte(v[i+1])
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		}
		if !closed {
			return nil, false
		}
		out = append(out, b.String())
	}
	return out, len(out) > 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// alias checks an alias target.
func (b *batchCheck) alias(rs RecordSet) {
	a := rs.AliasTarget
	if a == nil {
		return
	}
	prefix := fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s, but", encodeName(a.DNSName), rs.Type, a.HostedZoneID)
	switch {
	case a.HostedZoneID == CloudFrontZoneID:
		if !strings.HasSuffix(a.DNSName, ".cloudfront.net.") {
			b.fail("%s the alias target name does not lie within the target zone", prefix)
		}
		if rs.Type != "A" && rs.Type != "AAAA" {
			b.fail("%s CloudFront distributions can only be the target of A and AAAA alias records", prefix)
		}
		if a.EvaluateTargetHealth {
			b.fail("%s EvaluateTargetHealth must be false for a CloudFront distribution", prefix)
		}
		if b.z.private {
			b.fail("%s CloudFront distributions cannot be alias targets in a private hosted zone", prefix)
		}
	case a.HostedZoneID == b.z.id:
		if !within(a.DNSName, b.z.name) {
			b.fail("%s the alias target name does not lie within the target zone", prefix)
			return
		}
		found := false
		for _, o := range b.work.atName(a.DNSName) {
			if o.Type == rs.Type {
				found = true
				break
			}
		}
		if !found {
			b.fail("%s that target was not found", prefix)
		}
	default:
		if other := b.s.zones[a.HostedZoneID]; other != nil && !within(a.DNSName, other.name) {
			b.fail("%s the alias target name does not lie within the target zone", prefix)
		}
	}
}

// groupRules are the rules Route 53 applies to a whole routing-policy group
// (name and type) in the batch's final state, so that one batch may change
// every member together: equal TTLs in a weighted group (the documented way
// to do TTL prep on weighted records), at most 100 weighted sets, one
// PRIMARY and one SECONDARY failover set.
func (b *batchCheck) groupRules() {
	for _, c := range b.applied {
		if c.Action == ActionDelete {
			continue
		}
		rs := c.Set
		cur, ok := b.work.get(rs.key())
		if !ok || !sameSet(cur, rs) {
			continue // replaced or deleted later in the batch
		}
		name := encodeName(rs.Name)
		var group []RecordSet
		for _, o := range b.work.atName(rs.Name) {
			if o.Type == rs.Type && o.key() != rs.key() {
				group = append(group, o)
			}
		}
		switch rs.policyKind() {
		case "weighted":
			if rs.TTL != nil {
				for _, o := range group {
					if o.Weight != nil && o.TTL != nil && *o.TTL != *rs.TTL {
						b.fail("RRSet with DNS name %s and type %s, SetIdentifier %s cannot be created as weighted sets must contain the same TTL.", name, rs.Type, rs.SetIdentifier)
						break
					}
				}
			}
			if len(group)+1 > maxWeightedSets {
				b.fail("RRSet with DNS name %s and type %s, SetIdentifier %s cannot be created as a weighted group cannot have more than %d sets.", name, rs.Type, rs.SetIdentifier, maxWeightedSets)
			}
		case "failover":
			for _, o := range group {
				if o.Failover == rs.Failover {
					b.fail("RRSet with DNS name %s and type %s, SetIdentifier %s cannot be created as a %s failover set already exists with the same name and type.", name, rs.Type, rs.SetIdentifier, rs.Failover)
					break
				}
			}
		}
	}
}

// apexRules keep the zone's own SOA and NS records: they can be changed,
// never removed.
func (b *batchCheck) apexRules() {
	if _, ok := b.work.get(rrKey{b.z.name, "SOA", ""}); !ok {
		b.fail("A HostedZone must contain exactly one SOA record.")
	}
	if _, ok := b.work.get(rrKey{b.z.name, "NS", ""}); !ok {
		b.fail("A HostedZone must contain at least one NS record for the zone itself.")
	}
}

// sameSet reports whether two normalized sets are equal in every field a
// DELETE must match: TTL, values in any order, routing fields, health check
// and alias target.
func sameSet(a, b RecordSet) bool {
	if a.key() != b.key() || a.Region != b.Region || a.Failover != b.Failover || a.HealthCheckID != b.HealthCheckID {
		return false
	}
	if !eqInt(a.Weight, b.Weight) || !eqInt(a.TTL, b.TTL) {
		return false
	}
	if (a.MultiValueAnswer == nil) != (b.MultiValueAnswer == nil) || (a.MultiValueAnswer != nil && *a.MultiValueAnswer != *b.MultiValueAnswer) {
		return false
	}
	if (a.GeoLocation == nil) != (b.GeoLocation == nil) || (a.GeoLocation != nil && *a.GeoLocation != *b.GeoLocation) {
		return false
	}
	if (a.AliasTarget == nil) != (b.AliasTarget == nil) || (a.AliasTarget != nil && *a.AliasTarget != *b.AliasTarget) {
		return false
	}
	if len(a.Records) != len(b.Records) {
		return false
	}
	x := append([]string{}, a.Records...)
	y := append([]string{}, b.Records...)
	sort.Strings(x)
	sort.Strings(y)
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

func eqInt(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
