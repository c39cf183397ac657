package route53

import (
	"encoding/xml"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Wire types. Field order is element order (reference A1: order matters to
// strict parsers), so do not reorder fields.

type xmlChangeInfo struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

func changeInfo(c *changeRecord, now time.Time) xmlChangeInfo {
	st := c.status(now)
	return xmlChangeInfo{ID: "/change/" + c.id, Status: st.Status, SubmittedAt: timestamp(c.submittedAt), Comment: c.comment}
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type xmlHostedZoneConfig struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone bool   `xml:"PrivateZone"`
}

type xmlHostedZone struct {
	ID                     string              `xml:"Id"`
	Name                   string              `xml:"Name"`
	CallerReference        string              `xml:"CallerReference"`
	Config                 xmlHostedZoneConfig `xml:"Config"`
	ResourceRecordSetCount int                 `xml:"ResourceRecordSetCount"`
}

func hostedZoneXML(z *zone) xmlHostedZone {
	return xmlHostedZone{
		ID: "/hostedzone/" + z.id, Name: encodeName(z.name), CallerReference: z.callerRef,
		Config:                 xmlHostedZoneConfig{Comment: z.comment, PrivateZone: z.private},
		ResourceRecordSetCount: z.records.len(),
	}
}

type xmlHostedZones struct {
	Items []xmlHostedZone `xml:"HostedZone"`
}

type xmlDelegationSet struct {
	ID              string   `xml:"Id,omitempty"`
	CallerReference string   `xml:"CallerReference,omitempty"`
	NameServers     []string `xml:"NameServers>NameServer"`
}

type xmlVPC struct {
	VPCRegion string `xml:"VPCRegion,omitempty"`
	VPCId     string `xml:"VPCId,omitempty"`
}

type xmlGeo struct {
	ContinentCode   string `xml:"ContinentCode,omitempty"`
	CountryCode     string `xml:"CountryCode,omitempty"`
	SubdivisionCode string `xml:"SubdivisionCode,omitempty"`
}

type xmlRecord struct {
	Value string `xml:"Value"`
}

type xmlRecords struct {
	Items []xmlRecord `xml:"ResourceRecord"`
}

type xmlAlias struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

// xmlUnsupported captures elements the lab recognises but does not
// implement, so a request using them is refused rather than half-applied.
type xmlUnsupported struct {
	Inner string `xml:",innerxml"`
}

type xmlRRSet struct {
	Name                    string          `xml:"Name"`
	Type                    string          `xml:"Type"`
	SetIdentifier           string          `xml:"SetIdentifier,omitempty"`
	Weight                  *int64          `xml:"Weight,omitempty"`
	Region                  string          `xml:"Region,omitempty"`
	GeoLocation             *xmlGeo         `xml:"GeoLocation,omitempty"`
	Failover                string          `xml:"Failover,omitempty"`
	MultiValueAnswer        *bool           `xml:"MultiValueAnswer,omitempty"`
	TTL                     *int64          `xml:"TTL,omitempty"`
	ResourceRecords         *xmlRecords     `xml:"ResourceRecords,omitempty"`
	AliasTarget             *xmlAlias       `xml:"AliasTarget,omitempty"`
	HealthCheckID           string          `xml:"HealthCheckId,omitempty"`
	TrafficPolicyInstanceID string          `xml:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *xmlUnsupported `xml:"CidrRoutingConfig,omitempty"`
	GeoProximityLocation    *xmlUnsupported `xml:"GeoProximityLocation,omitempty"`
}

func rrsetXML(rs RecordSet) xmlRRSet {
	x := xmlRRSet{
		Name: encodeName(rs.Name), Type: rs.Type, SetIdentifier: rs.SetIdentifier, Weight: rs.Weight,
		Region: rs.Region, Failover: rs.Failover, MultiValueAnswer: rs.MultiValueAnswer, TTL: rs.TTL,
		HealthCheckID: rs.HealthCheckID,
	}
	if g := rs.GeoLocation; g != nil {
		x.GeoLocation = &xmlGeo{g.ContinentCode, g.CountryCode, g.SubdivisionCode}
	}
	if rs.Records != nil {
		x.ResourceRecords = &xmlRecords{}
		for _, v := range rs.Records {
			x.ResourceRecords.Items = append(x.ResourceRecords.Items, xmlRecord{v})
		}
	}
	if a := rs.AliasTarget; a != nil {
		x.AliasTarget = &xmlAlias{HostedZoneID: a.HostedZoneID, DNSName: encodeName(a.DNSName), EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return x
}

func (x *xmlRRSet) recordSet() RecordSet {
	rs := RecordSet{
		Name: x.Name, Type: x.Type, SetIdentifier: x.SetIdentifier, Weight: x.Weight, Region: x.Region,
		Failover: x.Failover, MultiValueAnswer: x.MultiValueAnswer, TTL: x.TTL, HealthCheckID: x.HealthCheckID,
	}
	if g := x.GeoLocation; g != nil {
		rs.GeoLocation = &GeoLocation{g.ContinentCode, g.CountryCode, g.SubdivisionCode}
	}
	// An empty <ResourceRecords/> counts as absent.
	if x.ResourceRecords != nil && len(x.ResourceRecords.Items) > 0 {
		rs.Records = make([]string, len(x.ResourceRecords.Items))
		for i, r := range x.ResourceRecords.Items {
			rs.Records[i] = r.Value
		}
	}
	if a := x.AliasTarget; a != nil {
		rs.AliasTarget = &AliasTarget{HostedZoneID: a.HostedZoneID, DNSName: a.DNSName, EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return rs
}

type xmlChange struct {
	Action            string    `xml:"Action"`
	ResourceRecordSet *xmlRRSet `xml:"ResourceRecordSet"`
}

type changeRRSetsRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *struct {
		Comment string `xml:"Comment"`
		Changes *struct {
			Items []xmlChange `xml:"Change"`
		} `xml:"Changes"`
	} `xml:"ChangeBatch"`
}

// decodeXML unmarshals a request body, answering malformed XML the way
// Route 53 does.
func decodeXML(body []byte, v any) *awsapi.Error {
	if err := xml.Unmarshal(body, v); err != nil {
		return errInvalidInput("Invalid XML ; %v", err)
	}
	return nil
}

func nullField(path string) *awsapi.Error {
	return errInvalidInput("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", path)
}

// decodeChangeBatch turns a ChangeResourceRecordSetsRequest body into the
// Go API's changes. It checks the XML and which elements are present; every
// other rule is validateInput's and validateBatch's, shared with
// ApplyChanges.
func decodeChangeBatch(body []byte) (comment string, changes []Change, err *awsapi.Error) {
	var req changeRRSetsRequest
	if err := decodeXML(body, &req); err != nil {
		return "", nil, err
	}
	if req.ChangeBatch == nil {
		return "", nil, nullField("changeBatch")
	}
	if req.ChangeBatch.Changes == nil {
		return "", nil, nullField("changeBatch.changes")
	}
	changes = []Change{}
	for i, xc := range req.ChangeBatch.Changes.Items {
		if xc.ResourceRecordSet == nil {
			return "", nil, nullField(fmt.Sprintf("changeBatch.changes.%d.member.resourceRecordSet", i+1))
		}
		x := xc.ResourceRecordSet
		if x.TrafficPolicyInstanceID != "" || x.CidrRoutingConfig != nil || x.GeoProximityLocation != nil {
			return "", nil, errInvalidInput("Invalid request: TrafficPolicyInstanceId, CidrRoutingConfig and GeoProximityLocation are not supported by the lab's Route 53 (change %d)", i+1)
		}
		changes = append(changes, Change{Action: xc.Action, Set: x.recordSet()})
	}
	return req.ChangeBatch.Comment, changes, nil
}

// changeInfoResponse is the body of each action that answers with a
// ChangeInfo alone (ChangeResourceRecordSets, GetChange, DeleteHostedZone);
// the root element is named after the action.
type changeInfoResponse struct {
	XMLName    xml.Name
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo xmlChangeInfo `xml:"ChangeInfo"`
}

func changeInfoReply(action string, c *changeRecord, now time.Time) changeInfoResponse {
	return changeInfoResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: Namespace, ChangeInfo: changeInfo(c, now)}
}

type xmlRRSets struct {
	Items []xmlRRSet `xml:"ResourceRecordSet"`
}

type listRRSetsResponse struct {
	XMLName              xml.Name  `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string    `xml:"xmlns,attr"`
	ResourceRecordSets   xmlRRSets `xml:"ResourceRecordSets"`
	IsTruncated          bool      `xml:"IsTruncated"`
	NextRecordName       string    `xml:"NextRecordName,omitempty"`
	NextRecordType       string    `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string    `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string    `xml:"MaxItems"`
}

type createHostedZoneRequest struct {
	XMLName          xml.Name `xml:"CreateHostedZoneRequest"`
	Name             string   `xml:"Name"`
	VPC              *xmlVPC  `xml:"VPC"`
	CallerReference  string   `xml:"CallerReference"`
	HostedZoneConfig *struct {
		Comment     string `xml:"Comment"`
		PrivateZone bool   `xml:"PrivateZone"`
	} `xml:"HostedZoneConfig"`
	DelegationSetID string `xml:"DelegationSetId"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name         `xml:"CreateHostedZoneResponse"`
	Xmlns         string           `xml:"xmlns,attr"`
	HostedZone    xmlHostedZone    `xml:"HostedZone"`
	ChangeInfo    xmlChangeInfo    `xml:"ChangeInfo"`
	DelegationSet xmlDelegationSet `xml:"DelegationSet"`
	VPC           *xmlVPC          `xml:"VPC,omitempty"`
}

type getHostedZoneResponse struct {
	XMLName       xml.Name          `xml:"GetHostedZoneResponse"`
	Xmlns         string            `xml:"xmlns,attr"`
	HostedZone    xmlHostedZone     `xml:"HostedZone"`
	DelegationSet *xmlDelegationSet `xml:"DelegationSet,omitempty"`
	VPCs          *struct {
		Items []xmlVPC `xml:"VPC"`
	} `xml:"VPCs,omitempty"`
}

type listHostedZonesResponse struct {
	XMLName     xml.Name       `xml:"ListHostedZonesResponse"`
	Xmlns       string         `xml:"xmlns,attr"`
	HostedZones xmlHostedZones `xml:"HostedZones"`
	Marker      string         `xml:"Marker"`
	IsTruncated bool           `xml:"IsTruncated"`
	NextMarker  string         `xml:"NextMarker,omitempty"`
	MaxItems    string         `xml:"MaxItems"`
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name       `xml:"ListHostedZonesByNameResponse"`
	Xmlns            string         `xml:"xmlns,attr"`
	HostedZones      xmlHostedZones `xml:"HostedZones"`
	DNSName          string         `xml:"DNSName,omitempty"`
	HostedZoneID     string         `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool           `xml:"IsTruncated"`
	NextDNSName      string         `xml:"NextDNSName,omitempty"`
	NextHostedZoneID string         `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string         `xml:"MaxItems"`
}

type getHostedZoneCountResponse struct {
	XMLName         xml.Name `xml:"GetHostedZoneCountResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	HostedZoneCount int      `xml:"HostedZoneCount"`
}

// Health checks.

type xmlChildHealthChecks struct {
	Items []string `xml:"ChildHealthCheck"`
}

type xmlRegions struct {
	Items []string `xml:"Region"`
}

type xmlAlarmIdentifier struct {
	Region string `xml:"Region"`
	Name   string `xml:"Name"`
}

type xmlHealthCheckConfig struct {
	IPAddress                    string                `xml:"IPAddress,omitempty"`
	Port                         *int32                `xml:"Port,omitempty"`
	Type                         string                `xml:"Type"`
	ResourcePath                 string                `xml:"ResourcePath,omitempty"`
	FullyQualifiedDomainName     string                `xml:"FullyQualifiedDomainName,omitempty"`
	SearchString                 string                `xml:"SearchString,omitempty"`
	RequestInterval              *int32                `xml:"RequestInterval,omitempty"`
	FailureThreshold             *int32                `xml:"FailureThreshold,omitempty"`
	MeasureLatency               *bool                 `xml:"MeasureLatency,omitempty"`
	Inverted                     *bool                 `xml:"Inverted,omitempty"`
	Disabled                     *bool                 `xml:"Disabled,omitempty"`
	HealthThreshold              *int32                `xml:"HealthThreshold,omitempty"`
	ChildHealthChecks            *xmlChildHealthChecks `xml:"ChildHealthChecks,omitempty"`
	EnableSNI                    *bool                 `xml:"EnableSNI,omitempty"`
	Regions                      *xmlRegions           `xml:"Regions,omitempty"`
	AlarmIdentifier              *xmlAlarmIdentifier   `xml:"AlarmIdentifier,omitempty"`
	InsufficientDataHealthStatus string                `xml:"InsufficientDataHealthStatus,omitempty"`
	RoutingControlArn            string                `xml:"RoutingControlArn,omitempty"`
}

type xmlHealthCheck struct {
	ID                 string               `xml:"Id"`
	CallerReference    string               `xml:"CallerReference"`
	HealthCheckConfig  xmlHealthCheckConfig `xml:"HealthCheckConfig"`
	HealthCheckVersion int64                `xml:"HealthCheckVersion"`
}

type xmlHealthChecks struct {
	Items []xmlHealthCheck `xml:"HealthCheck"`
}

type createHealthCheckRequest struct {
	XMLName           xml.Name              `xml:"CreateHealthCheckRequest"`
	CallerReference   string                `xml:"CallerReference"`
	HealthCheckConfig *xmlHealthCheckConfig `xml:"HealthCheckConfig"`
}

// healthCheckResponse is the body of each action that answers with one
// HealthCheck (CreateHealthCheck, GetHealthCheck, UpdateHealthCheck); the
// root element is named after the action.
type healthCheckResponse struct {
	XMLName     xml.Name
	Xmlns       string         `xml:"xmlns,attr"`
	HealthCheck xmlHealthCheck `xml:"HealthCheck"`
}

func healthCheckReply(action string, hc xmlHealthCheck) healthCheckResponse {
	return healthCheckResponse{XMLName: xml.Name{Local: action + "Response"}, Xmlns: Namespace, HealthCheck: hc}
}

type updateHealthCheckRequest struct {
	XMLName                      xml.Name              `xml:"UpdateHealthCheckRequest"`
	HealthCheckVersion           *int64                `xml:"HealthCheckVersion"`
	IPAddress                    *string               `xml:"IPAddress"`
	Port                         *int32                `xml:"Port"`
	ResourcePath                 *string               `xml:"ResourcePath"`
	FullyQualifiedDomainName     *string               `xml:"FullyQualifiedDomainName"`
	SearchString                 *string               `xml:"SearchString"`
	FailureThreshold             *int32                `xml:"FailureThreshold"`
	Inverted                     *bool                 `xml:"Inverted"`
	Disabled                     *bool                 `xml:"Disabled"`
	HealthThreshold              *int32                `xml:"HealthThreshold"`
	ChildHealthChecks            *xmlChildHealthChecks `xml:"ChildHealthChecks"`
	EnableSNI                    *bool                 `xml:"EnableSNI"`
	Regions                      *xmlRegions           `xml:"Regions"`
	AlarmIdentifier              *xmlAlarmIdentifier   `xml:"AlarmIdentifier"`
	InsufficientDataHealthStatus *string               `xml:"InsufficientDataHealthStatus"`
	ResetElements                *struct {
		Items []string `xml:"ResettableElementName"`
	} `xml:"ResetElements"`
}

type listHealthChecksResponse struct {
	XMLName      xml.Name        `xml:"ListHealthChecksResponse"`
	Xmlns        string          `xml:"xmlns,attr"`
	HealthChecks xmlHealthChecks `xml:"HealthChecks"`
	Marker       string          `xml:"Marker"`
	IsTruncated  bool            `xml:"IsTruncated"`
	NextMarker   string          `xml:"NextMarker,omitempty"`
	MaxItems     string          `xml:"MaxItems"`
}

type deleteHealthCheckResponse struct {
	XMLName xml.Name `xml:"DeleteHealthCheckResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

type xmlStatusReport struct {
	Status      string `xml:"Status"`
	CheckedTime string `xml:"CheckedTime"`
}

type xmlObservation struct {
	Region       string          `xml:"Region"`
	IPAddress    string          `xml:"IPAddress"`
	StatusReport xmlStatusReport `xml:"StatusReport"`
}

type getHealthCheckStatusResponse struct {
	XMLName                 xml.Name `xml:"GetHealthCheckStatusResponse"`
	Xmlns                   string   `xml:"xmlns,attr"`
	HealthCheckObservations struct {
		Items []xmlObservation `xml:"HealthCheckObservation"`
	} `xml:"HealthCheckObservations"`
}

type getHealthCheckCountResponse struct {
	XMLName          xml.Name `xml:"GetHealthCheckCountResponse"`
	Xmlns            string   `xml:"xmlns,attr"`
	HealthCheckCount int      `xml:"HealthCheckCount"`
}
