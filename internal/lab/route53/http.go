package route53

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// call is one parsed API request.
type call struct {
	op      string // API operation name
	id      string // path id (zone, change or health check), canonical
	tagType string // tags paths: the resource type (healthcheck, hostedzone)
	query   url.Values
	body    []byte
	who     awsapi.Identity
	now     time.Time
}

// reply is a handler's answer.
type reply struct {
	status   int
	body     any
	location string
}

type handler func(s *Service, c *call) (reply, *awsapi.Error)

// route maps method and path to an operation. Ids may arrive bare,
// URL-escaped with their prefix (%2Fhostedzone%2FZ…) or, from careless
// clients, with the prefix unescaped (/hostedzone//hostedzone/Z…).
func route(method, escapedPath string) (op, id string, ok bool) {
	var seg []string
	for _, p := range strings.Split(escapedPath, "/") {
		if p != "" {
			seg = append(seg, p)
		}
	}
	if len(seg) < 2 || seg[0] != "2013-04-01" {
		return "", "", false
	}
	seg = seg[1:]
	if seg[0] == "tags" {
		return tagsRoute(method, seg)
	}
	if len(seg) >= 3 && seg[1] == seg[0] {
		seg = append(seg[:1], seg[2:]...)
	}
	if len(seg) >= 2 {
		raw, err := url.PathUnescape(seg[1])
		if err != nil {
			return "", "", false
		}
		id = canonicalID(raw)
	}
	key := method + " " + seg[0]
	switch len(seg) {
	case 1:
		op = map[string]string{
			"POST hostedzone":       "CreateHostedZone",
			"GET hostedzone":        "ListHostedZones",
			"GET hostedzonesbyname": "ListHostedZonesByName",
			"GET hostedzonecount":   "GetHostedZoneCount",
			"POST healthcheck":      "CreateHealthCheck",
			"GET healthcheck":       "ListHealthChecks",
			"GET healthcheckcount":  "GetHealthCheckCount",
			"POST delegationset":    "CreateReusableDelegationSet",
			"GET delegationset":     "ListReusableDelegationSets",
		}[key]
	case 2:
		op = map[string]string{
			"GET hostedzone":       "GetHostedZone",
			"DELETE hostedzone":    "DeleteHostedZone",
			"POST hostedzone":      "UpdateHostedZoneComment",
			"GET delegationset":    "GetReusableDelegationSet",
			"DELETE delegationset": "DeleteReusableDelegationSet",
			"GET change":           "GetChange",
			"GET healthcheck":      "GetHealthCheck",
			"POST healthcheck":     "UpdateHealthCheck",
			"DELETE healthcheck":   "DeleteHealthCheck",
		}[key]
	case 3:
		op = map[string]string{
			"POST hostedzone rrset":  "ChangeResourceRecordSets",
			"GET hostedzone rrset":   "ListResourceRecordSets",
			"GET healthcheck status": "GetHealthCheckStatus",
			"GET hostedzone dnssec":  "GetDNSSEC",
		}[key+" "+seg[2]]
	}
	return op, id, op != ""
}

var handlers = map[string]handler{
	"CreateHostedZone":            (*Service).handleCreateHostedZone,
	"GetHostedZone":               (*Service).handleGetHostedZone,
	"ListHostedZones":             (*Service).handleListHostedZones,
	"ListHostedZonesByName":       (*Service).handleListHostedZonesByName,
	"GetHostedZoneCount":          (*Service).handleGetHostedZoneCount,
	"DeleteHostedZone":            (*Service).handleDeleteHostedZone,
	"ChangeResourceRecordSets":    (*Service).handleChangeResourceRecordSets,
	"ListResourceRecordSets":      (*Service).handleListResourceRecordSets,
	"GetChange":                   (*Service).handleGetChange,
	"CreateHealthCheck":           (*Service).handleCreateHealthCheck,
	"GetHealthCheck":              (*Service).handleGetHealthCheck,
	"ListHealthChecks":            (*Service).handleListHealthChecks,
	"GetHealthCheckCount":         (*Service).handleGetHealthCheckCount,
	"UpdateHealthCheck":           (*Service).handleUpdateHealthCheck,
	"DeleteHealthCheck":           (*Service).handleDeleteHealthCheck,
	"GetHealthCheckStatus":        (*Service).handleGetHealthCheckStatus,
	"UpdateHostedZoneComment":     (*Service).handleUpdateHostedZoneComment,
	"GetDNSSEC":                   (*Service).handleGetDNSSEC,
	"CreateReusableDelegationSet": (*Service).handleCreateDelegationSet,
	"GetReusableDelegationSet":    (*Service).handleGetDelegationSet,
	"ListReusableDelegationSets":  (*Service).handleListDelegationSets,
	"DeleteReusableDelegationSet": (*Service).handleDeleteDelegationSet,
	"ChangeTagsForResource":       (*Service).handleChangeTags,
	"ListTagsForResource":         (*Service).handleListTags,
	"ListTagsForResources":        (*Service).handleListTagsForResources,
}

// tagsRoute maps /tags/{ResourceType}[/{ResourceId}]; the resource type
// comes back as the id's prefix so ServeHTTP can split them.
func tagsRoute(method string, seg []string) (op, id string, ok bool) {
	switch {
	case len(seg) == 3 && method == http.MethodPost:
		op = "ChangeTagsForResource"
	case len(seg) == 3 && method == http.MethodGet:
		op = "ListTagsForResource"
	case len(seg) == 2 && method == http.MethodPost:
		op = "ListTagsForResources"
	default:
		return "", "", false
	}
	id = seg[1] + "/"
	if len(seg) == 3 {
		raw, err := url.PathUnescape(seg[2])
		if err != nil {
			return "", "", false
		}
		id += canonicalID(raw)
	}
	return op, id, true
}

// tagOps are the operations on /tags paths.
var tagOps = map[string]bool{"ChangeTagsForResource": true, "ListTagsForResource": true, "ListTagsForResources": true}

// zoneOps are the operations whose path id is a hosted zone (for faults).
var zoneOps = map[string]bool{"GetHostedZone": true, "DeleteHostedZone": true, "ChangeResourceRecordSets": true, "ListResourceRecordSets": true, "UpdateHostedZoneComment": true, "GetDNSSEC": true}

// identify returns who is calling: the owner of the SigV4 access key when
// the request is signed with a key the keyring knows, else whatever
// identity the lab's middleware put in the context (the default account
// when none).
func (s *Service) identify(r *http.Request) (awsapi.Identity, *awsapi.Error) {
	if sc, ok := awsapi.ParseScope(r); ok && s.env.Keys != nil {
		cred, err := s.env.Keys.Lookup(sc.AccessKeyID)
		if err != nil {
			return awsapi.Identity{}, err
		}
		return cred.Identity, nil
	}
	return awsapi.IdentityFrom(r.Context()), nil
}

// ServeHTTP serves the Route 53 REST-XML API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, id, ok := route(r.Method, r.URL.EscapedPath())
	if !ok {
		awsapi.WriteXMLError(w, Namespace, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException", "No Route 53 operation matches %s %s", r.Method, r.URL.Path))
		return
	}
	who, aerr := s.identify(r)
	if aerr != nil {
		awsapi.WriteXMLError(w, Namespace, aerr)
		return
	}
	body, err := awsapi.ReadBody(r)
	if err != nil {
		awsapi.WriteXMLError(w, Namespace, err)
		return
	}
	c := &call{op: op, id: id, query: r.URL.Query(), body: body, who: who}
	if tagOps[op] {
		c.tagType, c.id, _ = strings.Cut(id, "/")
	}

	s.mu.Lock()
	c.now = s.env.Clock.Now()
	faultZone := ""
	if zoneOps[op] {
		faultZone = id
	}
	var rep reply
	if aerr = s.takeFault(op, faultZone); aerr == nil {
		if !s.limiter.allow(who.AccountID, op) {
			aerr = awsapi.ErrThrottling
		} else {
			rep, aerr = handlers[op](s, c)
		}
	}
	s.mu.Unlock()

	if aerr != nil {
		awsapi.WriteXMLError(w, Namespace, aerr)
		return
	}
	out, merr := xml.Marshal(rep.body)
	if merr != nil {
		awsapi.WriteXMLError(w, Namespace, merr)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", awsapi.NewRequestID())
	if rep.location != "" {
		w.Header().Set("Location", rep.location)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}

// maxItems parses a maxitems query parameter: absent gives def, larger
// than limit is capped at limit (as Route 53 does).
func maxItems(q url.Values, def, limit int) (int, string, *awsapi.Error) {
	v := q.Get("maxitems")
	if v == "" {
		return def, strconv.Itoa(def), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, "", errInvalidInput("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a positive integer", v)
	}
	if n > limit {
		n = limit
	}
	return n, v, nil
}

const endpoint = "https://route53.amazonaws.com/2013-04-01"

// ---- hosted zones ----

func (s *Service) handleCreateHostedZone(c *call) (reply, *awsapi.Error) {
	var req createHostedZoneRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	if req.Name == "" {
		return reply{}, nullField("name")
	}
	if req.CallerReference == "" || len(req.CallerReference) > 128 {
		return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 128", req.CallerReference)
	}
	var set *delegationSet
	if req.DelegationSetID != "" {
		var aerr *awsapi.Error
		if set, aerr = s.delegationSetFor(c.who, req.DelegationSetID); aerr != nil {
			return reply{}, aerr
		}
	}
	private, comment := false, ""
	if req.HostedZoneConfig != nil {
		private, comment = req.HostedZoneConfig.PrivateZone, req.HostedZoneConfig.Comment
	}
	if len(comment) > 256 {
		return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'hostedZoneConfig.comment' failed to satisfy constraint: Member must have length less than or equal to 256", comment)
	}
	var vpc *xmlVPC
	if req.VPC != nil && (req.VPC.VPCId != "" || req.VPC.VPCRegion != "") {
		vpc = req.VPC
		private = true
	}
	if private && (vpc == nil || vpc.VPCId == "" || vpc.VPCRegion == "") {
		return reply{}, errInvalidInput("When you're creating a private hosted zone (when you specify true for PrivateZone), you must also specify values for VPCId and VPCRegion.")
	}
	region, vpcID := "", ""
	if vpc != nil {
		region, vpcID = vpc.VPCRegion, vpc.VPCId
	}
	if set != nil && private {
		return reply{}, errInvalidInput("A reusable delegation set cannot be used with a private hosted zone.")
	}
	z, ch, err := s.createZone(c.who, req.Name, req.CallerReference, comment, private, region, vpcID, set)
	if err != nil {
		return reply{}, err
	}
	resp := createHostedZoneResponse{Xmlns: Namespace, HostedZone: hostedZoneXML(z), ChangeInfo: changeInfo(ch, c.now), VPC: vpc}
	if !z.private {
		resp.DelegationSet = zoneDelegationSet(z)
	}
	return reply{status: http.StatusCreated, body: resp, location: endpoint + "/hostedzone/" + z.id}, nil
}

func (s *Service) handleGetHostedZone(c *call) (reply, *awsapi.Error) {
	z, err := s.zoneFor(c.who, c.id)
	if err != nil {
		return reply{}, err
	}
	resp := getHostedZoneResponse{Xmlns: Namespace, HostedZone: hostedZoneXML(z)}
	if z.private {
		resp.VPCs = &struct {
			Items []xmlVPC `xml:"VPC"`
		}{Items: []xmlVPC{{VPCRegion: z.vpcRegion, VPCId: z.vpcID}}}
	} else {
		ds := zoneDelegationSet(z)
		resp.DelegationSet = &ds
	}
	return reply{body: resp}, nil
}

// accountZones returns the caller's zones in id order (= creation order).
func (s *Service) accountZones(account string, q url.Values) []*zone {
	private := map[string]bool{"PrivateHostedZone": true}[q.Get("hostedzonetype")]
	var zs []*zone
	for _, z := range s.zones {
		if z.account == account && (!private || z.private) {
			zs = append(zs, z)
		}
	}
	sort.Slice(zs, func(i, j int) bool { return zs[i].id < zs[j].id })
	return zs
}

func (s *Service) handleListHostedZones(c *call) (reply, *awsapi.Error) {
	limit, maxStr, err := maxItems(c.query, maxZoneItems, maxZoneItems)
	if err != nil {
		return reply{}, err
	}
	marker := canonicalID(c.query.Get("marker"))
	zs := s.accountZones(c.who.AccountID, c.query)
	start := sort.Search(len(zs), func(i int) bool { return zs[i].id >= marker })
	resp := listHostedZonesResponse{Xmlns: Namespace, Marker: c.query.Get("marker"), MaxItems: maxStr}
	resp.HostedZones.Items = []xmlHostedZone{}
	for i := start; i < len(zs); i++ {
		if len(resp.HostedZones.Items) == limit {
			resp.IsTruncated, resp.NextMarker = true, zs[i].id
			break
		}
		resp.HostedZones.Items = append(resp.HostedZones.Items, hostedZoneXML(zs[i]))
	}
	return reply{body: resp}, nil
}

func (s *Service) handleListHostedZonesByName(c *call) (reply, *awsapi.Error) {
	limit, maxStr, err := maxItems(c.query, maxZoneItems, maxZoneItems)
	if err != nil {
		return reply{}, err
	}
	dnsName, zid := c.query.Get("dnsname"), canonicalID(c.query.Get("hostedzoneid"))
	if zid != "" && dnsName == "" {
		return reply{}, errInvalidInput("The hostedzoneid parameter requires the dnsname parameter.")
	}
	startKey := ""
	if dnsName != "" {
		raw, problem := parseName(dnsName)
		if problem != "" {
			return reply{}, awsapi.Errorf(http.StatusBadRequest, "InvalidDomainName", "%s is not a valid domain name", dnsName)
		}
		startKey = nameSortKey(raw)
	}
	zs := s.accountZones(c.who.AccountID, c.query)
	sort.SliceStable(zs, func(i, j int) bool { return nameSortKey(zs[i].name) < nameSortKey(zs[j].name) })
	resp := listHostedZonesByNameResponse{Xmlns: Namespace, MaxItems: maxStr}
	if dnsName != "" {
		raw, _ := parseName(dnsName)
		resp.DNSName = encodeName(raw)
	}
	resp.HostedZoneID = c.query.Get("hostedzoneid")
	resp.HostedZones.Items = []xmlHostedZone{}
	for _, z := range zs {
		k := nameSortKey(z.name)
		if k < startKey || (k == startKey && zid != "" && z.id < zid) {
			continue
		}
		if len(resp.HostedZones.Items) == limit {
			resp.IsTruncated, resp.NextDNSName, resp.NextHostedZoneID = true, encodeName(z.name), z.id
			break
		}
		resp.HostedZones.Items = append(resp.HostedZones.Items, hostedZoneXML(z))
	}
	return reply{body: resp}, nil
}

func (s *Service) handleGetHostedZoneCount(c *call) (reply, *awsapi.Error) {
	return reply{body: getHostedZoneCountResponse{Xmlns: Namespace, HostedZoneCount: len(s.accountZones(c.who.AccountID, nil))}}, nil
}

func (s *Service) handleDeleteHostedZone(c *call) (reply, *awsapi.Error) {
	ch, err := s.deleteZone(c.who, c.id)
	if err != nil {
		return reply{}, err
	}
	return reply{body: changeInfoReply("DeleteHostedZone", ch, c.now)}, nil
}

// ---- record sets ----

func (s *Service) handleChangeResourceRecordSets(c *call) (reply, *awsapi.Error) {
	if _, err := s.zoneFor(c.who, c.id); err != nil {
		return reply{}, err
	}
	comment, changes, err := decodeChangeBatch(c.body)
	if err != nil {
		return reply{}, err
	}
	ch, err := s.changeRecordSets(c.who, c.id, comment, changes)
	if err != nil {
		return reply{}, err
	}
	return reply{body: changeInfoReply("ChangeResourceRecordSets", ch, c.now)}, nil
}

func (s *Service) handleListResourceRecordSets(c *call) (reply, *awsapi.Error) {
	z, err := s.zoneFor(c.who, c.id)
	if err != nil {
		return reply{}, err
	}
	limit, maxStr, err := maxItems(c.query, defaultMaxItems, defaultMaxItems)
	if err != nil {
		return reply{}, err
	}
	name, typ, ident := c.query.Get("name"), c.query.Get("type"), c.query.Get("identifier")
	if typ != "" && name == "" {
		return reply{}, errInvalidInput("The input is not valid: the type parameter requires the name parameter.")
	}
	if ident != "" && typ == "" {
		return reply{}, errInvalidInput("The input is not valid: the identifier parameter requires the name and type parameters.")
	}
	if typ != "" && !oneOf(typ, rrTypes) {
		return reply{}, errInvalidInput("1 validation error detected: Value '%s' at 'startRecordType' failed to satisfy constraint: Member must satisfy enum value set: [%s]", typ, strings.Join(rrTypes, ", "))
	}
	var start rrKey
	if name != "" {
		raw, problem := parseName(name)
		if problem != "" {
			return reply{}, errInvalidInput("%s", problem)
		}
		start = rrKey{raw, typ, ident}
	}
	startName := nameSortKey(start.name)
	all := z.records.sorted()
	i := sort.Search(len(all), func(i int) bool {
		k := all[i].key()
		if name == "" {
			return true
		}
		if kn := nameSortKey(k.name); kn != startName {
			return kn > startName
		}
		if typ == "" || k.typ != typ {
			return typ == "" || k.typ > typ
		}
		return k.setID >= ident
	})
	resp := listRRSetsResponse{Xmlns: Namespace, MaxItems: maxStr}
	resp.ResourceRecordSets.Items = []xmlRRSet{}
	for ; i < len(all); i++ {
		if len(resp.ResourceRecordSets.Items) == limit {
			next := all[i]
			resp.IsTruncated = true
			resp.NextRecordName, resp.NextRecordType, resp.NextRecordIdentifier = encodeName(next.Name), next.Type, next.SetIdentifier
			break
		}
		resp.ResourceRecordSets.Items = append(resp.ResourceRecordSets.Items, rrsetXML(all[i]))
	}
	return reply{body: resp}, nil
}

func (s *Service) handleGetChange(c *call) (reply, *awsapi.Error) {
	ch := s.changes[c.id]
	if ch == nil || ch.account != c.who.AccountID {
		return reply{}, awsapi.Errorf(http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist: %s", c.id)
	}
	return reply{body: changeInfoReply("GetChange", ch, c.now)}, nil
}

// ---- health checks ----

func (s *Service) handleCreateHealthCheck(c *call) (reply, *awsapi.Error) {
	var req createHealthCheckRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	if req.HealthCheckConfig == nil {
		return reply{}, nullField("healthCheckConfig")
	}
	hc, err := s.createHealthCheck(c.who, req.CallerReference, *req.HealthCheckConfig)
	if err != nil {
		return reply{}, err
	}
	return reply{status: http.StatusCreated, body: healthCheckReply("CreateHealthCheck", hc.xml()), location: endpoint + "/healthcheck/" + hc.id}, nil
}

func (s *Service) handleGetHealthCheck(c *call) (reply, *awsapi.Error) {
	hc, err := s.checkFor(c.who, c.id)
	if err != nil {
		return reply{}, err
	}
	return reply{body: healthCheckReply("GetHealthCheck", hc.xml())}, nil
}

func (s *Service) accountChecks(account string) []*healthCheck {
	var out []*healthCheck
	for _, hc := range s.checks {
		if hc.account == account && !hc.deleted {
			out = append(out, hc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (s *Service) handleListHealthChecks(c *call) (reply, *awsapi.Error) {
	limit, maxStr, err := maxItems(c.query, maxZoneItems, 1000)
	if err != nil {
		return reply{}, err
	}
	marker := c.query.Get("marker")
	hcs := s.accountChecks(c.who.AccountID)
	start := sort.Search(len(hcs), func(i int) bool { return hcs[i].id >= marker })
	resp := listHealthChecksResponse{Xmlns: Namespace, Marker: marker, MaxItems: maxStr}
	resp.HealthChecks.Items = []xmlHealthCheck{}
	for i := start; i < len(hcs); i++ {
		if len(resp.HealthChecks.Items) == limit {
			resp.IsTruncated, resp.NextMarker = true, hcs[i].id
			break
		}
		resp.HealthChecks.Items = append(resp.HealthChecks.Items, hcs[i].xml())
	}
	return reply{body: resp}, nil
}

func (s *Service) handleGetHealthCheckCount(c *call) (reply, *awsapi.Error) {
	return reply{body: getHealthCheckCountResponse{Xmlns: Namespace, HealthCheckCount: len(s.accountChecks(c.who.AccountID))}}, nil
}

func (s *Service) handleUpdateHealthCheck(c *call) (reply, *awsapi.Error) {
	var req updateHealthCheckRequest
	if err := decodeXML(c.body, &req); err != nil {
		return reply{}, err
	}
	hc, err := s.updateHealthCheck(c.who, c.id, &req)
	if err != nil {
		return reply{}, err
	}
	return reply{body: healthCheckReply("UpdateHealthCheck", hc.xml())}, nil
}

func (s *Service) handleDeleteHealthCheck(c *call) (reply, *awsapi.Error) {
	if err := s.deleteHealthCheck(c.who, c.id); err != nil {
		return reply{}, err
	}
	return reply{body: deleteHealthCheckResponse{Xmlns: Namespace}}, nil
}

func (s *Service) handleGetHealthCheckStatus(c *call) (reply, *awsapi.Error) {
	hc, err := s.checkFor(c.who, c.id)
	if err != nil {
		return reply{}, err
	}
	resp := getHealthCheckStatusResponse{Xmlns: Namespace}
	resp.HealthCheckObservations.Items = s.observations(hc)
	return reply{body: resp}, nil
}
