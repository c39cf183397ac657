package cloudfront

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

const apiPrefix = "/2020-05-31/"

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// ServeHTTP answers the CloudFront REST-XML API. The caller's identity is
// read from the request context (set by the lab server after SigV4).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug must surface as an AWS-shaped 500, never a dropped
		// connection that a client would retry blindly.
		if v := recover(); v != nil {
			awsapi.WriteXMLError(w, Namespace, &awsapi.Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "internal error", Receiver: true})
		}
	}()
	if err := s.route(w, r); err != nil {
		awsapi.WriteXMLError(w, Namespace, err)
	}
}

func unknownOperation(r *http.Request) error {
	return awsapi.Errorf(http.StatusNotFound, "UnknownOperationException", "No CloudFront operation matches %s %s.", r.Method, r.URL.Path)
}

func (s *Service) route(w http.ResponseWriter, r *http.Request) error {
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		return unknownOperation(r)
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	caller := awsapi.IdentityFrom(r.Context())
	if op, resource := s.operation(r, caller.AccountID); op != "" {
		awsapi.NoteCall(r.Context(), op, resource)
	}
	q := r.URL.Query()
	switch {
	case seg[0] == "distribution" && len(seg) == 1:
		switch r.Method {
		case http.MethodPost:
			return s.handleCreate(w, r, caller, q.Has("WithTags"))
		case http.MethodGet:
			return s.handleList(w, caller, q.Get("Marker"), q.Get("MaxItems"))
		}
	case seg[0] == "distribution" && len(seg) == 2:
		switch r.Method {
		case http.MethodGet:
			return s.handleGet(w, caller, seg[1], false)
		case http.MethodDelete:
			s.mu.Lock()
			err := s.deleteDistribution(caller, seg[1], r.Header.Get("If-Match"))
			s.mu.Unlock()
			if err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	case seg[0] == "distribution" && len(seg) == 3:
		id := seg[1]
		switch {
		case seg[2] == "config" && r.Method == http.MethodGet:
			return s.handleGet(w, caller, id, true)
		case seg[2] == "config" && r.Method == http.MethodPut:
			t, err := readTree(r)
			if err != nil {
				return err
			}
			return s.writeDistribution(w, http.StatusOK, func() (*distribution, error) {
				return s.updateDistribution(caller, id, r.Header.Get("If-Match"), t)
			})
		case seg[2] == "associate-alias" && r.Method == http.MethodPut:
			s.mu.Lock()
			err := s.associateAlias(caller, id, q.Get("Alias"))
			s.mu.Unlock()
			if err != nil {
				return err
			}
			w.WriteHeader(http.StatusOK)
			return nil
		case seg[2] == "copy" && r.Method == http.MethodPost:
			return s.handleCopy(w, r, caller, id)
		case seg[2] == "promote-staging-config" && r.Method == http.MethodPut:
			return s.writeDistribution(w, http.StatusOK, func() (*distribution, error) {
				return s.promote(caller, id, q.Get("StagingDistributionId"), r.Header.Get("If-Match"))
			})
		}
	case seg[0] == "conflicting-alias" && len(seg) == 1 && r.Method == http.MethodGet:
		return s.handleConflicts(w, caller, q.Get("DistributionId"), q.Get("Alias"), q.Get("Marker"), q.Get("MaxItems"))
	case seg[0] == "continuous-deployment-policy":
		return s.routePolicy(w, r, caller, seg[1:])
	}
	return unknownOperation(r)
}

func readTree(r *http.Request) (*node, error) {
	body, err := awsapi.ReadBody(r)
	if err != nil {
		return nil, err
	}
	return parseXML(body)
}

func writeXML(w http.ResponseWriter, status int, etag, location string, n *node) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amz-request-id", awsapi.NewRequestID())
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if location != "" {
		w.Header().Set("Location", location)
	}
	w.WriteHeader(status)
	_, _ = w.Write(n.marshal(Namespace))
}

func (s *Service) location(d *distribution) string {
	return "https://cloudfront.amazonaws.com/2020-05-31/distribution/" + d.ID
}

// writeDistribution runs a write under the lock and answers with the
// resulting Distribution and its ETag.
func (s *Service) writeDistribution(w http.ResponseWriter, status int, op func() (*distribution, error)) error {
	s.mu.Lock()
	d, err := op()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	n, etag, loc := s.distributionNode(d, s.env.Clock.Now()), d.ETag, s.location(d)
	s.mu.Unlock()
	if status != http.StatusCreated {
		loc = ""
	}
	writeXML(w, status, etag, loc, n)
	return nil
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request, caller awsapi.Identity, withTags bool) error {
	t, err := readTree(r)
	if err != nil {
		return err
	}
	op := "CreateDistribution"
	var tags *node
	if withTags {
		op = "CreateDistributionWithTags"
		if t.Name != "DistributionConfigWithTags" {
			return malformed("Expected DistributionConfigWithTags as the root element")
		}
		tags = t.child("Tags").clone()
		if t = t.child("DistributionConfig"); t == nil {
			return invalidArg("The parameter DistributionConfig is required.")
		}
		t = t.clone()
		for _, tag := range tags.child("Items").kids() {
			if k, _ := tag.textOf("Key"); k == "" {
				return awsapi.Errorf(http.StatusBadRequest, "InvalidTagging", "Tag keys must not be empty.")
			}
		}
	}
	return s.writeDistribution(w, http.StatusCreated, func() (*distribution, error) {
		return s.createDistribution(caller, op, t, tags)
	})
}

func (n *node) kids() []*node {
	if n == nil {
		return nil
	}
	return n.Kids
}

func (s *Service) handleCopy(w http.ResponseWriter, r *http.Request, caller awsapi.Identity, id string) error {
	t, err := readTree(r)
	if err != nil {
		return err
	}
	if t.Name != "CopyDistributionRequest" {
		return malformed("Expected CopyDistributionRequest as the root element")
	}
	var staging bool
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Staging"))) {
	case "", "false":
	case "true":
		staging = true
	default:
		return invalidArg("The Staging header must be true or false.")
	}
	var enabled *bool
	if b, set, err := parseBool(t, "Enabled", false, "CopyDistributionRequest"); err != nil {
		return err
	} else if set {
		enabled = &b
	}
	ref, _ := t.textOf("CallerReference")
	return s.writeDistribution(w, http.StatusCreated, func() (*distribution, error) {
		return s.copyDistribution(caller, id, r.Header.Get("If-Match"), staging, ref, enabled)
	})
}

func (s *Service) handleGet(w http.ResponseWriter, caller awsapi.Identity, id string, configOnly bool) error {
	s.mu.Lock()
	d, err := s.own(caller.AccountID, id)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var n *node
	if configOnly {
		n = d.Config.clone()
	} else {
		n = s.distributionNode(d, s.env.Clock.Now())
	}
	etag := d.ETag
	s.mu.Unlock()
	writeXML(w, http.StatusOK, etag, "", n)
	return nil
}

func (s *Service) distributionNode(d *distribution, now time.Time) *node {
	return el("Distribution",
		leaf("Id", d.ID),
		leaf("ARN", distributionARN(d.Account, d.ID)),
		leaf("Status", d.status(now)),
		leaf("LastModifiedTime", timestamp(d.Modified)),
		leaf("InProgressInvalidationBatches", "0"),
		leaf("DomainName", d.DomainName),
		el("ActiveTrustedSigners", leaf("Enabled", "false"), leaf("Quantity", "0")),
		el("ActiveTrustedKeyGroups", leaf("Enabled", "false"), leaf("Quantity", "0")),
		d.Config.clone(),
	)
}

// summaryMembers are the DistributionSummary members copied from the
// config, with the value CloudFront reports when a client left one out.
var summaryMembers = []struct {
	name string
	def  func() *node
}{
	{"Aliases", func() *node { return el("Aliases", leaf("Quantity", "0")) }},
	{"Origins", nil},
	{"OriginGroups", nil},
	{"DefaultCacheBehavior", nil},
	{"CacheBehaviors", func() *node { return el("CacheBehaviors", leaf("Quantity", "0")) }},
	{"CustomErrorResponses", func() *node { return el("CustomErrorResponses", leaf("Quantity", "0")) }},
	{"Comment", nil},
	{"PriceClass", func() *node { return leaf("PriceClass", "PriceClass_All") }},
	{"Enabled", nil},
	{"ViewerCertificate", func() *node { return el("ViewerCertificate", leaf("CloudFrontDefaultCertificate", "true")) }},
	{"Restrictions", func() *node {
		return el("Restrictions", el("GeoRestriction", leaf("RestrictionType", "none"), leaf("Quantity", "0")))
	}},
	{"WebACLId", func() *node { return leaf("WebACLId", "") }},
	{"HttpVersion", func() *node { return leaf("HttpVersion", "http2") }},
	{"IsIPV6Enabled", func() *node { return leaf("IsIPV6Enabled", "false") }},
}

func (s *Service) summaryNode(d *distribution, now time.Time) *node {
	n := el("DistributionSummary",
		leaf("Id", d.ID),
		leaf("ARN", distributionARN(d.Account, d.ID)),
		leaf("ETag", d.ETag),
		leaf("Status", d.status(now)),
		leaf("LastModifiedTime", timestamp(d.Modified)),
		leaf("DomainName", d.DomainName),
	)
	for _, m := range summaryMembers {
		if c := d.Config.child(m.name); c != nil {
			n.Kids = append(n.Kids, c.clone())
		} else if m.def != nil {
			n.Kids = append(n.Kids, m.def())
		}
	}
	n.Kids = append(n.Kids, leaf("Staging", boolText(d.cfg.Staging)))
	return n
}

// parseMaxItems reads a MaxItems query value: default def, at most max.
func parseMaxItems(v string, def, max int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, invalidArg("The parameter MaxItems must be an integer between 1 and %d.", max)
	}
	return n, nil
}

// pageAfter returns the bounds of the page of at most max items that
// follows the item whose id is marker; an empty marker starts at the first
// item, and a marker naming no item is refused as CloudFront does.
func pageAfter[T any](items []T, id func(T) string, marker string, max int) (start, end int, err error) {
	if marker != "" {
		start = -1
		for i, it := range items {
			if id(it) == marker {
				start = i + 1
			}
		}
		if start < 0 {
			return 0, 0, invalidArg("The parameter Marker is not valid.")
		}
	}
	return start, min(start+max, len(items)), nil
}

func (s *Service) handleList(w http.ResponseWriter, caller awsapi.Identity, marker, maxItems string) error {
	max, err := parseMaxItems(maxItems, 100, 1000)
	if err != nil {
		return err
	}
	s.mu.Lock()
	now := s.env.Clock.Now()
	var mine []*distribution
	for _, id := range s.order {
		if d := s.dists[id]; d.Account == caller.AccountID {
			mine = append(mine, d)
		}
	}
	start, end, err := pageAfter(mine, func(d *distribution) string { return d.ID }, marker, max)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	items := el("Items")
	for _, d := range mine[start:end] {
		items.Kids = append(items.Kids, s.summaryNode(d, now))
	}
	s.mu.Unlock()
	truncated := end < len(mine)
	list := el("DistributionList", leaf("Marker", marker))
	if truncated {
		list.Kids = append(list.Kids, leaf("NextMarker", mine[end-1].ID))
	}
	list.Kids = append(list.Kids, leaf("MaxItems", strconv.Itoa(max)), leaf("IsTruncated", boolText(truncated)),
		leaf("Quantity", strconv.Itoa(len(items.Kids))))
	if len(items.Kids) > 0 {
		list.Kids = append(list.Kids, items)
	}
	writeXML(w, http.StatusOK, "", "", list)
	return nil
}

func (s *Service) handleConflicts(w http.ResponseWriter, caller awsapi.Identity, distID, alias, marker, maxItems string) error {
	max, err := parseMaxItems(maxItems, 100, 100)
	if err != nil {
		return err
	}
	start := 0
	if marker != "" {
		if start, err = strconv.Atoi(marker); err != nil || start < 0 {
			return invalidArg("The parameter Marker is not valid.")
		}
	}
	s.mu.Lock()
	all, err := s.conflictingAliases(caller, distID, alias)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	start = min(start, len(all))
	end := min(start+max, len(all))
	list := el("ConflictingAliasesList")
	if end < len(all) {
		list.Kids = append(list.Kids, leaf("NextMarker", strconv.Itoa(end)))
	}
	list.Kids = append(list.Kids, leaf("MaxItems", strconv.Itoa(max)), leaf("Quantity", strconv.Itoa(end-start)))
	if end > start {
		items := el("Items")
		for _, c := range all[start:end] {
			items.Kids = append(items.Kids, el("ConflictingAlias", leaf("Alias", c.Alias), leaf("DistributionId", c.DistributionID), leaf("AccountId", c.AccountID)))
		}
		list.Kids = append(list.Kids, items)
	}
	writeXML(w, http.StatusOK, "", "", list)
	return nil
}

func (s *Service) policyNode(p *policy) *node {
	return el("ContinuousDeploymentPolicy", leaf("Id", p.ID), leaf("LastModifiedTime", timestamp(p.Modified)), p.Config.clone())
}

func policyLocation(p *policy) string {
	return "https://cloudfront.amazonaws.com/2020-05-31/continuous-deployment-policy/" + p.ID
}

func (s *Service) writePolicy(w http.ResponseWriter, status int, op func() (*policy, error)) error {
	s.mu.Lock()
	p, err := op()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	n, etag, loc := s.policyNode(p), p.ETag, policyLocation(p)
	s.mu.Unlock()
	if status != http.StatusCreated {
		loc = ""
	}
	writeXML(w, status, etag, loc, n)
	return nil
}

func (s *Service) routePolicy(w http.ResponseWriter, r *http.Request, caller awsapi.Identity, seg []string) error {
	switch {
	case len(seg) == 0 && r.Method == http.MethodPost:
		t, err := readTree(r)
		if err != nil {
			return err
		}
		return s.writePolicy(w, http.StatusCreated, func() (*policy, error) { return s.createPolicy(caller, t) })
	case len(seg) == 0 && r.Method == http.MethodGet:
		return s.handleListPolicies(w, caller, r.URL.Query().Get("Marker"), r.URL.Query().Get("MaxItems"))
	case len(seg) == 1 && r.Method == http.MethodGet:
		return s.writePolicy(w, http.StatusOK, func() (*policy, error) { return s.ownPolicy(caller.AccountID, seg[0]) })
	case len(seg) == 2 && seg[1] == "config" && r.Method == http.MethodGet:
		s.mu.Lock()
		p, err := s.ownPolicy(caller.AccountID, seg[0])
		if err != nil {
			s.mu.Unlock()
			return err
		}
		n, etag := p.Config.clone(), p.ETag
		s.mu.Unlock()
		writeXML(w, http.StatusOK, etag, "", n)
		return nil
	case len(seg) == 1 && r.Method == http.MethodPut:
		t, err := readTree(r)
		if err != nil {
			return err
		}
		return s.writePolicy(w, http.StatusOK, func() (*policy, error) {
			return s.updatePolicy(caller, seg[0], r.Header.Get("If-Match"), t)
		})
	case len(seg) == 1 && r.Method == http.MethodDelete:
		s.mu.Lock()
		err := s.deletePolicy(caller, seg[0], r.Header.Get("If-Match"))
		s.mu.Unlock()
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return unknownOperation(r)
}

func (s *Service) handleListPolicies(w http.ResponseWriter, caller awsapi.Identity, marker, maxItems string) error {
	max, err := parseMaxItems(maxItems, 100, 100)
	if err != nil {
		return err
	}
	s.mu.Lock()
	var mine []*policy
	for _, id := range s.porder {
		if p := s.policies[id]; p.Account == caller.AccountID {
			mine = append(mine, p)
		}
	}
	start, end, err := pageAfter(mine, func(p *policy) string { return p.ID }, marker, max)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	items := el("Items")
	for _, p := range mine[start:end] {
		items.Kids = append(items.Kids, el("ContinuousDeploymentPolicySummary", s.policyNode(p)))
	}
	s.mu.Unlock()
	list := el("ContinuousDeploymentPolicyList")
	if end < len(mine) {
		list.Kids = append(list.Kids, leaf("NextMarker", mine[end-1].ID))
	}
	list.Kids = append(list.Kids, leaf("MaxItems", strconv.Itoa(max)), leaf("Quantity", strconv.Itoa(len(items.Kids))))
	if len(items.Kids) > 0 {
		list.Kids = append(list.Kids, items)
	}
	writeXML(w, http.StatusOK, "", "", list)
	return nil
}
