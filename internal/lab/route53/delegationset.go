package route53

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// A reusable delegation set is four name servers an account keeps so that
// several hosted zones (or a zone deleted and created again) are served by
// the same ones; a registrar then needs updating once. Created empty or from
// an existing zone's name servers (HostedZoneId); a zone created with
// DelegationSetId takes them; a set still used by a zone cannot be deleted.
// Shapes and errors from the service model (BC-route53).
type delegationSet struct {
	id, account, callerRef string
	nameServers            []string
}

func (d *delegationSet) xml() xmlDelegationSet {
	return xmlDelegationSet{ID: "/delegationset/" + d.id, CallerReference: d.callerRef, NameServers: append([]string{}, d.nameServers...)}
}

// zoneDelegationSet is the DelegationSet of a zone's GetHostedZone and
// CreateHostedZone answers: the set's id when it uses a reusable one.
func zoneDelegationSet(z *zone) xmlDelegationSet {
	ds := xmlDelegationSet{NameServers: z.nameServers}
	if z.delegationSet != "" {
		ds.ID = "/delegationset/" + z.delegationSet
	}
	return ds
}

// newNameServers picks four Route 53-style name servers, one per TLD.
func (s *Service) newNameServers() []string {
	var ns []string
	for i, tld := range []string{"com", "net", "org", "co.uk"} {
		ns = append(ns, fmt.Sprintf("ns-%d.awsdns-%02d.%s", s.rnd.Intn(512)+512*i, s.rnd.Intn(64), tld))
	}
	return ns
}

func noSuchDelegationSet(id string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist: %s", id)
}

func (s *Service) delegationSetFor(who awsapi.Identity, raw string) (*delegationSet, *awsapi.Error) {
	id := canonicalID(raw)
	d := s.delegationSets[id]
	if d == nil || d.account != who.AccountID {
		return nil, noSuchDelegationSet(id)
	}
	return d, nil
}

type createDelegationSetRequest struct {
	CallerReference string `xml:"CallerReference"`
	HostedZoneID    string `xml:"HostedZoneId"`
}

type delegationSetResponse struct {
	XMLName       xml.Name
	Xmlns         string           `xml:"xmlns,attr"`
	DelegationSet xmlDelegationSet `xml:"DelegationSet"`
}

type listDelegationSetsResponse struct {
	XMLName        xml.Name           `xml:"ListReusableDelegationSetsResponse"`
	Xmlns          string             `xml:"xmlns,attr"`
	DelegationSets []xmlDelegationSet `xml:"DelegationSets>DelegationSet"`
	Marker         string             `xml:"Marker"`
	IsTruncated    bool               `xml:"IsTruncated"`
	NextMarker     string             `xml:"NextMarker,omitempty"`
	MaxItems       string             `xml:"MaxItems"`
}

type deleteDelegationSetResponse struct {
	XMLName xml.Name `xml:"DeleteReusableDelegationSetResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

func (s *Service) handleCreateDelegationSet(c *call) (reply, *awsapi.Error) {
	var req createDelegationSetRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	if req.CallerReference == "" || len(req.CallerReference) > 128 {
		return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", req.CallerReference)
	}
	for _, d := range s.delegationSets {
		if d.account == c.who.AccountID && d.callerRef == req.CallerReference {
			return reply{}, awsapi.Errorf(http.StatusConflict, "DelegationSetAlreadyCreated", "A delegation set has already been created with the specified caller reference.")
		}
	}
	d := &delegationSet{id: s.newID('N'), account: c.who.AccountID, callerRef: req.CallerReference}
	if req.HostedZoneID != "" {
		z := s.zones[canonicalID(req.HostedZoneID)]
		if z == nil || z.account != c.who.AccountID {
			return reply{}, awsapi.Errorf(http.StatusBadRequest, "HostedZoneNotFound", "The specified HostedZone can't be found.")
		}
		if z.delegationSet != "" {
			return reply{}, awsapi.Errorf(http.StatusBadRequest, "DelegationSetAlreadyReusable", "The specified delegation set has already been marked as reusable.")
		}
		if z.private {
			return reply{}, errInvalidInput("A private hosted zone has no delegation set.")
		}
		d.nameServers = append([]string{}, z.nameServers...)
		z.delegationSet = d.id
	} else {
		d.nameServers = s.newNameServers()
	}
	s.delegationSets[d.id] = d
	s.env.History.Record(c.who, "route53", "CreateReusableDelegationSet", "/delegationset/"+d.id, nil, d.xml())
	return reply{status: http.StatusCreated, body: delegationSetResponse{XMLName: xml.Name{Local: "CreateReusableDelegationSetResponse"}, Xmlns: Namespace, DelegationSet: d.xml()},
		location: endpoint + "/delegationset/" + d.id}, nil
}

func (s *Service) handleGetDelegationSet(c *call) (reply, *awsapi.Error) {
	d, aerr := s.delegationSetFor(c.who, c.id)
	if aerr != nil {
		return reply{}, aerr
	}
	return reply{body: delegationSetResponse{XMLName: xml.Name{Local: "GetReusableDelegationSetResponse"}, Xmlns: Namespace, DelegationSet: d.xml()}}, nil
}

func (s *Service) handleListDelegationSets(c *call) (reply, *awsapi.Error) {
	limit, raw, aerr := maxItems(c.query, 100, 100)
	if aerr != nil {
		return reply{}, aerr
	}
	var mine []*delegationSet
	for _, d := range s.delegationSets {
		if d.account == c.who.AccountID {
			mine = append(mine, d)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].id < mine[j].id })
	marker := canonicalID(c.query.Get("marker"))
	resp := listDelegationSetsResponse{Xmlns: Namespace, DelegationSets: []xmlDelegationSet{}, Marker: c.query.Get("marker"), MaxItems: raw}
	for _, d := range mine {
		if marker != "" && d.id < marker {
			continue
		}
		if len(resp.DelegationSets) == limit {
			resp.IsTruncated, resp.NextMarker = true, d.id
			break
		}
		resp.DelegationSets = append(resp.DelegationSets, d.xml())
	}
	return reply{body: resp}, nil
}

func (s *Service) handleDeleteDelegationSet(c *call) (reply, *awsapi.Error) {
	d, aerr := s.delegationSetFor(c.who, c.id)
	if aerr != nil {
		return reply{}, aerr
	}
	for _, z := range s.zones {
		if z.delegationSet == d.id {
			return reply{}, awsapi.Errorf(http.StatusBadRequest, "DelegationSetInUse", "The specified delegation contains associated hosted zones which must be deleted before the reusable delegation set can be deleted.")
		}
	}
	delete(s.delegationSets, d.id)
	s.env.History.Record(c.who, "route53", "DeleteReusableDelegationSet", "/delegationset/"+d.id, d.xml(), nil)
	return reply{body: deleteDelegationSetResponse{Xmlns: Namespace}}, nil
}
