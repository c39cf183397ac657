package route53

import "time"

// Change actions, as on the wire.
const (
	ActionCreate = "CREATE"
	ActionDelete = "DELETE"
	ActionUpsert = "UPSERT"
)

// Failover roles.
const (
	FailoverPrimary   = "PRIMARY"
	FailoverSecondary = "SECONDARY"
)

// CloudFrontZoneID is the alias-target hosted zone id of every CloudFront
// distribution (reference A5).
const CloudFrontZoneID = "Z2FDTNDATAQYW2"

// Default zone records (reference A5).
const (
	soaTTL           = 900
	nsTTL            = 172800
	soaTail          = " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
	defaultMaxItems  = 300 // ListResourceRecordSets page cap
	maxZoneItems     = 100 // ListHostedZones / ListHealthChecks page cap
	maxRecordsInZone = 10000
	maxZonesPerAcct  = 500
	maxHealthChecks  = 200
)

// RecordSet is one resource record set in the Go API of the emulator: the
// same fields as the wire's ResourceRecordSet.
//
// Names are in raw form: lower-case, with a trailing dot, no escapes, and
// "*" as the wildcard label (the wire form escapes it as \052). Input names
// may omit the trailing dot, use any case and use Route 53's \NNN octal
// escapes; the emulator stores and returns the raw form.
//
// Nil pointers and empty strings mean "absent", which matters: a zero
// Weight is a weight, a nil Weight is no weight. Records is nil for alias
// sets; AliasTarget is nil for sets with values.
type RecordSet struct {
	Name             string       `json:"name"`
	Type             string       `json:"type"`
	SetIdentifier    string       `json:"setIdentifier,omitempty"`
	Weight           *int64       `json:"weight,omitempty"`
	Region           string       `json:"region,omitempty"`
	GeoLocation      *GeoLocation `json:"geoLocation,omitempty"`
	Failover         string       `json:"failover,omitempty"`
	MultiValueAnswer *bool        `json:"multiValueAnswer,omitempty"`
	TTL              *int64       `json:"ttl,omitempty"`
	Records          []string     `json:"records,omitempty"`
	AliasTarget      *AliasTarget `json:"aliasTarget,omitempty"`
	HealthCheckID    string       `json:"healthCheckId,omitempty"`
}

// AliasTarget is where an alias record set points.
type AliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"`
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// GeoLocation is the geolocation routing key of a record set.
type GeoLocation struct {
	ContinentCode   string `json:"continentCode,omitempty"`
	CountryCode     string `json:"countryCode,omitempty"`
	SubdivisionCode string `json:"subdivisionCode,omitempty"`
}

// Change is one element of a change batch.
type Change struct {
	Action string    `json:"action"`
	Set    RecordSet `json:"set"`
}

// ZoneView describes a hosted zone to the rest of the lab.
type ZoneView struct {
	ID              string   `json:"id"` // bare, "Z…"
	Name            string   `json:"name"`
	Account         string   `json:"account"`
	Private         bool     `json:"private"`
	Comment         string   `json:"comment,omitempty"`
	CallerReference string   `json:"callerReference"`
	NameServers     []string `json:"nameServers,omitempty"` // without trailing dots, as DelegationSet shows them
	RecordSetCount  int      `json:"recordSetCount"`        // API view, PENDING changes included
}

// ChangeStatus is what GetChange reports.
type ChangeStatus struct {
	ID          string    `json:"id"` // bare, "C…"
	Status      string    `json:"status"`
	SubmittedAt time.Time `json:"submittedAt"`
	InSyncAt    time.Time `json:"inSyncAt"`
	Comment     string    `json:"comment,omitempty"`
}

// Change statuses.
const (
	StatusPending = "PENDING"
	StatusInSync  = "INSYNC"
)

// Int64 returns a pointer to v, for RecordSet.Weight and RecordSet.TTL.
func Int64(v int64) *int64 { return &v }

// Bool returns a pointer to v, for RecordSet.MultiValueAnswer.
func Bool(v bool) *bool { return &v }

// policyKind names the routing policy of a set; "" is simple routing.
func (rs *RecordSet) policyKind() string {
	switch {
	case rs.Weight != nil:
		return "weighted"
	case rs.Region != "":
		return "latency"
	case rs.Failover != "":
		return "failover"
	case rs.GeoLocation != nil:
		return "geolocation"
	case rs.MultiValueAnswer != nil:
		return "multivalue answer"
	}
	return ""
}

// clone returns a deep copy, so stored sets are never shared with callers.
func (rs RecordSet) clone() RecordSet {
	c := rs
	if rs.Weight != nil {
		c.Weight = Int64(*rs.Weight)
	}
	if rs.TTL != nil {
		c.TTL = Int64(*rs.TTL)
	}
	if rs.MultiValueAnswer != nil {
		c.MultiValueAnswer = Bool(*rs.MultiValueAnswer)
	}
	if rs.GeoLocation != nil {
		g := *rs.GeoLocation
		c.GeoLocation = &g
	}
	if rs.AliasTarget != nil {
		a := *rs.AliasTarget
		c.AliasTarget = &a
	}
	if rs.Records != nil {
		c.Records = append([]string{}, rs.Records...)
	}
	return c
}

// rrKey identifies a record set in a zone.
type rrKey struct {
	name, typ, setID string
}

func (rs *RecordSet) key() rrKey { return rrKey{rs.Name, rs.Type, rs.SetIdentifier} }
