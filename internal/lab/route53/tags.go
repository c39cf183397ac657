package route53

import (
	"encoding/xml"
	"sort"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Tags, hosted zone comments and DNSSEC status: the smaller parts of the
// API a test suite written for another emulator calls on its way to the
// record sets. Shapes from the service model (BC-route53): at most 10 tags
// or keys per request and 10 ids per ListTagsForResources; keys up to 128
// characters, values up to 256; resource types healthcheck and hostedzone.

const maxTagsPerRequest = 10

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type changeTagsRequest struct {
	AddTags       []xmlTag `xml:"AddTags>Tag"`
	RemoveTagKeys []string `xml:"RemoveTagKeys>Key"`
}

type xmlResourceTagSet struct {
	ResourceType string   `xml:"ResourceType"`
	ResourceID   string   `xml:"ResourceId"`
	Tags         []xmlTag `xml:"Tags>Tag"`
}

type changeTagsResponse struct {
	XMLName xml.Name `xml:"ChangeTagsForResourceResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

type listTagsResponse struct {
	XMLName        xml.Name          `xml:"ListTagsForResourceResponse"`
	Xmlns          string            `xml:"xmlns,attr"`
	ResourceTagSet xmlResourceTagSet `xml:"ResourceTagSet"`
}

type listTagsForResourcesRequest struct {
	ResourceIDs []string `xml:"ResourceIds>ResourceId"`
}

type listTagsForResourcesResponse struct {
	XMLName         xml.Name            `xml:"ListTagsForResourcesResponse"`
	Xmlns           string              `xml:"xmlns,attr"`
	ResourceTagSets []xmlResourceTagSet `xml:"ResourceTagSets>ResourceTagSet"`
}

type updateCommentRequest struct {
	Comment *string `xml:"Comment"`
}

type updateCommentResponse struct {
	XMLName    xml.Name      `xml:"UpdateHostedZoneCommentResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	HostedZone xmlHostedZone `xml:"HostedZone"`
}

type getDNSSECResponse struct {
	XMLName xml.Name `xml:"GetDNSSECResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Status  struct {
		ServeSignature string `xml:"ServeSignature"`
	} `xml:"Status"`
	KeySigningKeys struct{} `xml:"KeySigningKeys"`
}

// tagged names the resource a tag set belongs to, after checking that the
// caller's account has it.
func (s *Service) tagged(who awsapi.Identity, typ, id string) (string, *awsapi.Error) {
	switch typ {
	case "hostedzone":
		z, err := s.zoneFor(who, id)
		if err != nil {
			return "", err
		}
		return typ + "/" + z.id, nil
	case "healthcheck":
		hc, err := s.checkFor(who, id)
		if err != nil {
			return "", err
		}
		return typ + "/" + hc.id, nil
	}
	return "", errInvalidInput("1 validation error detected: Value '%s' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [healthcheck, hostedzone]", typ)
}

func (s *Service) tagSet(typ, id, key string) xmlResourceTagSet {
	set := xmlResourceTagSet{ResourceType: typ, ResourceID: id, Tags: []xmlTag{}}
	for k, v := range s.tags[key] {
		set.Tags = append(set.Tags, xmlTag{Key: k, Value: v})
	}
	sort.Slice(set.Tags, func(i, j int) bool { return set.Tags[i].Key < set.Tags[j].Key })
	return set
}

func (s *Service) handleChangeTags(c *call) (reply, *awsapi.Error) {
	key, aerr := s.tagged(c.who, c.tagType, c.id)
	if aerr != nil {
		return reply{}, aerr
	}
	var req changeTagsRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	if len(req.AddTags) > maxTagsPerRequest || len(req.RemoveTagKeys) > maxTagsPerRequest {
		return reply{}, errInvalidInput("1 validation error detected: at most %d tags and %d keys per request", maxTagsPerRequest, maxTagsPerRequest)
	}
	for _, t := range req.AddTags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'addTags.member.key' failed to satisfy constraint: Member must have length between 1 and 128, its value at most 256", t.Key)
		}
	}
	before := s.tagSet(c.tagType, c.id, key)
	if s.tags[key] == nil {
		s.tags[key] = map[string]string{}
	}
	for _, k := range req.RemoveTagKeys {
		delete(s.tags[key], k)
	}
	for _, t := range req.AddTags {
		s.tags[key][t.Key] = t.Value
	}
	s.env.History.Record(c.who, "route53", "ChangeTagsForResource", key, before.Tags, s.tagSet(c.tagType, c.id, key).Tags)
	return reply{body: changeTagsResponse{Xmlns: Namespace}}, nil
}

func (s *Service) handleListTags(c *call) (reply, *awsapi.Error) {
	key, aerr := s.tagged(c.who, c.tagType, c.id)
	if aerr != nil {
		return reply{}, aerr
	}
	return reply{body: listTagsResponse{Xmlns: Namespace, ResourceTagSet: s.tagSet(c.tagType, c.id, key)}}, nil
}

func (s *Service) handleListTagsForResources(c *call) (reply, *awsapi.Error) {
	var req listTagsForResourcesRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	if len(req.ResourceIDs) == 0 || len(req.ResourceIDs) > maxTagsPerRequest {
		return reply{}, errInvalidInput("1 validation error detected: Value at 'resourceIds' failed to satisfy constraint: Member must have length between 1 and %d", maxTagsPerRequest)
	}
	resp := listTagsForResourcesResponse{Xmlns: Namespace, ResourceTagSets: []xmlResourceTagSet{}}
	for _, raw := range req.ResourceIDs {
		id := canonicalID(raw)
		key, aerr := s.tagged(c.who, c.tagType, id)
		if aerr != nil {
			return reply{}, aerr
		}
		resp.ResourceTagSets = append(resp.ResourceTagSets, s.tagSet(c.tagType, id, key))
	}
	return reply{body: resp}, nil
}

func (s *Service) handleUpdateHostedZoneComment(c *call) (reply, *awsapi.Error) {
	z, aerr := s.zoneFor(c.who, c.id)
	if aerr != nil {
		return reply{}, aerr
	}
	var req updateCommentRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	comment := ""
	if req.Comment != nil {
		comment = *req.Comment
	}
	if len(comment) > 256 {
		return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'comment' failed to satisfy constraint: Member must have length less than or equal to 256", comment)
	}
	before := z.comment
	z.comment = comment
	s.env.History.Record(c.who, "route53", "UpdateHostedZoneComment", "hostedzone/"+z.id, map[string]string{"comment": before}, map[string]string{"comment": comment})
	return reply{body: updateCommentResponse{Xmlns: Namespace, HostedZone: hostedZoneXML(z)}}, nil
}

// handleGetDNSSEC reports every zone unsigned: the lab does not sign
// (DNSSEC signing is never enabled for it).
func (s *Service) handleGetDNSSEC(c *call) (reply, *awsapi.Error) {
	if _, aerr := s.zoneFor(c.who, c.id); aerr != nil {
		return reply{}, aerr
	}
	resp := getDNSSECResponse{Xmlns: Namespace}
	resp.Status.ServeSignature = "NOT_SIGNING"
	return reply{body: resp}, nil
}
