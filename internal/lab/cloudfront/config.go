package cloudfront

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// configOrder is the member order of DistributionConfig in the 2020-05-31
// model; members the lab inserts itself (Aliases, Staging, …) go where a
// client would have put them.
var configOrder = []string{
	"CallerReference", "Aliases", "DefaultRootObject", "Origins", "OriginGroups",
	"DefaultCacheBehavior", "CacheBehaviors", "CustomErrorResponses", "Comment",
	"Logging", "PriceClass", "Enabled", "ViewerCertificate", "Restrictions",
	"WebACLId", "HttpVersion", "IsIPV6Enabled", "ContinuousDeploymentPolicyId",
	"Staging", "AnycastIpListId", "TenantConfig", "ConnectionMode",
	"ViewerMtlsConfig", "ConnectionFunctionAssociation", "CacheTagConfig",
}

// Origin is the part of an origin the data plane needs to forward requests.
type Origin struct {
	ID             string `json:"id"`
	DomainName     string `json:"domain_name"`
	OriginPath     string `json:"origin_path,omitempty"`
	HTTPPort       int    `json:"http_port"`
	HTTPSPort      int    `json:"https_port"`
	ProtocolPolicy string `json:"protocol_policy"` // http-only, https-only, match-viewer
	S3             bool   `json:"s3,omitempty"`
}

// distConfig is what the lab reads out of a DistributionConfig tree.
type distConfig struct {
	CallerReference string
	Comment         string
	Enabled         bool
	Aliases         []string
	Origins         []Origin
	TargetOriginID  string
	ViewerProtocol  string
	CertificateArn  string
	IAMCertificate  string
	DefaultCert     bool
	PolicyID        string
	Staging         bool
}

func invalidArg(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidArgument", format, args...)
}

func parseBool(n *node, name string, required bool, path string) (bool, bool, error) {
	s, ok := n.textOf(name)
	if !ok {
		if required {
			return false, false, invalidArg("The parameter %s.%s is required.", path, name)
		}
		return false, false, nil
	}
	switch strings.TrimSpace(s) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, malformed("Invalid boolean value for %s.%s: %q", path, name, s)
}

func parseInt(n *node, name, path string) (int, bool, error) {
	s, ok := n.textOf(name)
	if !ok {
		return 0, false, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, false, malformed("Invalid integer value for %s.%s: %q", path, name, s)
	}
	return v, true, nil
}

// checkQuantities walks the whole tree: every {Quantity, Items} pair must
// agree, whatever list it is, as CloudFront checks them all.
func checkQuantities(n *node, path string) error {
	if n.child("Quantity") != nil && len(n.Kids) > 0 {
		q, _, err := parseInt(n, "Quantity", path)
		if err != nil {
			return err
		}
		items := n.child("Items")
		got := 0
		if items != nil {
			got = len(items.Kids)
		}
		if q != got {
			return awsapi.Errorf(http.StatusBadRequest, "InconsistentQuantities", "The value of Quantity and the size of Items don't match.")
		}
	}
	for _, k := range n.Kids {
		if err := checkQuantities(k, path+"."+k.Name); err != nil {
			return err
		}
	}
	return nil
}

func listItems(n *node, list string) []string {
	items := n.child(list).child("Items")
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items.Kids))
	for _, k := range items.Kids {
		out = append(out, strings.TrimSpace(k.Text))
	}
	return out
}

// parseDistConfig validates the shape of a DistributionConfig tree and
// extracts the fields the lab reasons about. Cross-resource rules (alias
// ownership, certificates, policies) are checked by the Service.
func parseDistConfig(t *node) (*distConfig, error) {
	if t == nil || t.Name != "DistributionConfig" {
		return nil, malformed("Expected DistributionConfig as the root element")
	}
	if err := checkQuantities(t, t.Name); err != nil {
		return nil, err
	}
	c := &distConfig{}
	var ok bool
	if c.CallerReference, ok = t.textOf("CallerReference"); !ok || c.CallerReference == "" {
		return nil, invalidArg("The parameter CallerReference is required.")
	}
	if c.Comment, ok = t.textOf("Comment"); !ok {
		return nil, invalidArg("The parameter Comment is required.")
	}
	if len(c.Comment) > 128 {
		return nil, invalidArg("The parameter Comment is too long.")
	}
	var err error
	if c.Enabled, _, err = parseBool(t, "Enabled", true, "DistributionConfig"); err != nil {
		return nil, err
	}
	if c.Staging, _, err = parseBool(t, "Staging", false, "DistributionConfig"); err != nil {
		return nil, err
	}
	c.PolicyID, _ = t.textOf("ContinuousDeploymentPolicyId")
	c.PolicyID = strings.TrimSpace(c.PolicyID)
	if a := t.child("Aliases"); a != nil {
		if a.child("Quantity") == nil {
			return nil, invalidArg("The parameter Aliases.Quantity is required.")
		}
		c.Aliases = listItems(t, "Aliases")
	}

	origins := t.child("Origins")
	if origins == nil || origins.child("Items") == nil || len(origins.child("Items").Kids) == 0 {
		return nil, invalidArg("The parameter Origins must contain at least one origin.")
	}
	ids := map[string]bool{}
	for _, o := range origins.child("Items").Kids {
		org, err := parseOrigin(o)
		if err != nil {
			return nil, err
		}
		if ids[org.ID] {
			return nil, invalidArg("The parameter Origin Id %s is used more than once.", org.ID)
		}
		ids[org.ID] = true
		c.Origins = append(c.Origins, org)
	}
	if g := t.child("OriginGroups").child("Items"); g != nil {
		for _, k := range g.Kids {
			if id, ok := k.textOf("Id"); ok {
				ids[strings.TrimSpace(id)] = true
			}
		}
	}
	dcb := t.child("DefaultCacheBehavior")
	if dcb == nil {
		return nil, invalidArg("The parameter DefaultCacheBehavior is required.")
	}
	c.TargetOriginID, _ = dcb.textOf("TargetOriginId")
	c.TargetOriginID = strings.TrimSpace(c.TargetOriginID)
	if !ids[c.TargetOriginID] {
		return nil, awsapi.Errorf(http.StatusNotFound, "NoSuchOrigin", "One or more of your origins or origin groups do not exist.")
	}
	c.ViewerProtocol, _ = dcb.textOf("ViewerProtocolPolicy")
	switch c.ViewerProtocol {
	case "allow-all", "https-only", "redirect-to-https":
	default:
		return nil, invalidArg("The parameter ViewerProtocolPolicy has an invalid value %q.", c.ViewerProtocol)
	}
	if cbs := t.child("CacheBehaviors").child("Items"); cbs != nil {
		for _, cb := range cbs.Kids {
			tid, _ := cb.textOf("TargetOriginId")
			if !ids[strings.TrimSpace(tid)] {
				return nil, awsapi.Errorf(http.StatusNotFound, "NoSuchOrigin", "One or more of your origins or origin groups do not exist.")
			}
		}
	}

	c.DefaultCert = true
	if vc := t.child("ViewerCertificate"); vc != nil {
		def, set, err := parseBool(vc, "CloudFrontDefaultCertificate", false, "ViewerCertificate")
		if err != nil {
			return nil, err
		}
		c.CertificateArn, _ = vc.textOf("ACMCertificateArn")
		c.CertificateArn = strings.TrimSpace(c.CertificateArn)
		c.IAMCertificate, _ = vc.textOf("IAMCertificateId")
		c.DefaultCert = (set && def) || (c.CertificateArn == "" && c.IAMCertificate == "")
		if c.DefaultCert && (c.CertificateArn != "" || c.IAMCertificate != "") {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidViewerCertificate", "You cannot specify both the CloudFront default certificate and a custom certificate.")
		}
		if c.CertificateArn != "" && c.IAMCertificate != "" {
			return nil, awsapi.Errorf(http.StatusBadRequest, "InvalidViewerCertificate", "You cannot specify both an ACM certificate and an IAM certificate.")
		}
	}
	return c, nil
}

func parseOrigin(o *node) (Origin, error) {
	var org Origin
	id, _ := o.textOf("Id")
	dn, _ := o.textOf("DomainName")
	org.ID, org.DomainName = strings.TrimSpace(id), strings.ToLower(strings.TrimSpace(dn))
	if org.ID == "" || org.DomainName == "" {
		return org, invalidArg("The parameter Origin requires an Id and a DomainName.")
	}
	org.OriginPath, _ = o.textOf("OriginPath")
	if org.OriginPath != "" && (!strings.HasPrefix(org.OriginPath, "/") || strings.HasSuffix(org.OriginPath, "/")) {
		return org, awsapi.Errorf(http.StatusBadRequest, "InvalidRelativePath", "The relative path is too big, is not URL-encoded, or does not begin with a slash (/).")
	}
	coc, s3 := o.child("CustomOriginConfig"), o.child("S3OriginConfig")
	switch {
	case coc != nil && s3 != nil:
		return org, awsapi.Errorf(http.StatusBadRequest, "InvalidOrigin", "Specify either an S3OriginConfig or a CustomOriginConfig, not both.")
	case coc != nil:
		var err error
		for _, p := range []struct {
			name string
			dst  *int
		}{{"HTTPPort", &org.HTTPPort}, {"HTTPSPort", &org.HTTPSPort}} {
			v, ok, e := parseInt(coc, p.name, "CustomOriginConfig")
			if e != nil {
				return org, e
			}
			if !ok || v < 1 || v > 65535 {
				return org, invalidArg("The parameter %s must be between 1 and 65535.", p.name)
			}
			*p.dst = v
		}
		org.ProtocolPolicy, _ = coc.textOf("OriginProtocolPolicy")
		switch org.ProtocolPolicy {
		case "http-only", "https-only", "match-viewer":
		default:
			err = invalidArg("The parameter OriginProtocolPolicy has an invalid value %q.", org.ProtocolPolicy)
		}
		return org, err
	default:
		// An S3 origin (or one with neither block, which CloudFront treats
		// as S3) is reached over HTTPS on the standard ports.
		org.S3, org.HTTPPort, org.HTTPSPort, org.ProtocolPolicy = true, 80, 443, "https-only"
		return org, nil
	}
}

// setAliases replaces the Aliases list of a config tree.
func setAliases(t *node, aliases []string) {
	a := el("Aliases", leaf("Quantity", strconv.Itoa(len(aliases))))
	if len(aliases) > 0 {
		items := el("Items")
		for _, x := range aliases {
			items.Kids = append(items.Kids, leaf("CNAME", x))
		}
		a.Kids = append(a.Kids, items)
	}
	t.set(a, configOrder)
}

// policyConfig is a parsed ContinuousDeploymentPolicyConfig.
type policyConfig struct {
	StagingDNSNames []string
	Enabled         bool
	Type            string // SingleWeight or SingleHeader; empty when absent
	Weight          float64
	IdleTTL         int
	MaximumTTL      int
	Header, Value   string
}

func parsePolicyConfig(t *node) (*policyConfig, error) {
	if t == nil || t.Name != "ContinuousDeploymentPolicyConfig" {
		return nil, malformed("Expected ContinuousDeploymentPolicyConfig as the root element")
	}
	if err := checkQuantities(t, t.Name); err != nil {
		return nil, err
	}
	p := &policyConfig{}
	if t.child("StagingDistributionDnsNames") == nil {
		return nil, invalidArg("The parameter StagingDistributionDnsNames is required.")
	}
	for _, n := range listItems(t, "StagingDistributionDnsNames") {
		p.StagingDNSNames = append(p.StagingDNSNames, strings.ToLower(strings.TrimSuffix(n, ".")))
	}
	if len(p.StagingDNSNames) != 1 {
		return nil, invalidArg("StagingDistributionDnsNames must contain exactly one staging distribution domain name.")
	}
	var err error
	if p.Enabled, _, err = parseBool(t, "Enabled", true, "ContinuousDeploymentPolicyConfig"); err != nil {
		return nil, err
	}
	tc := t.child("TrafficConfig")
	if tc == nil {
		if p.Enabled {
			return nil, invalidArg("TrafficConfig is required when the policy is enabled.")
		}
		return p, nil
	}
	p.Type, _ = tc.textOf("Type")
	switch p.Type {
	case "SingleWeight":
		sw := tc.child("SingleWeightConfig")
		if sw == nil {
			return nil, invalidArg("SingleWeightConfig is required for TrafficConfig type SingleWeight.")
		}
		ws, ok := sw.textOf("Weight")
		w, perr := strconv.ParseFloat(strings.TrimSpace(ws), 64)
		if !ok || perr != nil || math.IsNaN(w) {
			return nil, invalidArg("The parameter Weight must be a number between 0 and 0.15.")
		}
		if w < 0 || w > 0.15 {
			return nil, invalidArg("The parameter Weight must be a number between 0 and 0.15.")
		}
		p.Weight = w
		if st := sw.child("SessionStickinessConfig"); st != nil {
			idle, ok1, err := parseInt(st, "IdleTTL", "SessionStickinessConfig")
			if err != nil {
				return nil, err
			}
			maxTTL, ok2, err := parseInt(st, "MaximumTTL", "SessionStickinessConfig")
			if err != nil {
				return nil, err
			}
			if !ok1 || !ok2 || idle < 300 || idle > 3600 || maxTTL < 300 || maxTTL > 3600 {
				return nil, invalidArg("SessionStickinessConfig IdleTTL and MaximumTTL must be between 300 and 3600 seconds.")
			}
			if idle > maxTTL {
				return nil, invalidArg("SessionStickinessConfig IdleTTL must be less than or equal to MaximumTTL.")
			}
			p.IdleTTL, p.MaximumTTL = idle, maxTTL
		}
	case "SingleHeader":
		sh := tc.child("SingleHeaderConfig")
		if sh == nil {
			return nil, invalidArg("SingleHeaderConfig is required for TrafficConfig type SingleHeader.")
		}
		p.Header, _ = sh.textOf("Header")
		p.Value, _ = sh.textOf("Value")
		if !strings.HasPrefix(strings.ToLower(p.Header), "aws-cf-cd-") {
			return nil, invalidArg("The header name must start with aws-cf-cd-.")
		}
		if p.Value == "" {
			return nil, invalidArg("The parameter SingleHeaderConfig.Value is required.")
		}
	default:
		return nil, invalidArg("The parameter TrafficConfig.Type has an invalid value %q.", p.Type)
	}
	return p, nil
}

// DistributionInput is the plain Go form of a distribution for the lab's
// seed file; it is rendered to the same XML tree a client would send and
// goes through the same validation.
type DistributionInput struct {
	CallerReference string
	Comment         string
	Enabled         bool
	Aliases         []string
	Origins         []Origin
	// DefaultOriginID defaults to the first origin.
	DefaultOriginID string
	// ViewerProtocolPolicy defaults to redirect-to-https.
	ViewerProtocolPolicy string
	// CertificateArn is an ACM certificate; empty means the CloudFront
	// default certificate (and then no aliases are allowed).
	CertificateArn string
	PolicyID       string
}

func (in DistributionInput) tree() *node {
	t := el("DistributionConfig", leaf("CallerReference", in.CallerReference))
	setAliases(t, in.Aliases)
	items := el("Items")
	for _, o := range in.Origins {
		on := el("Origin", leaf("Id", o.ID), leaf("DomainName", o.DomainName), leaf("OriginPath", o.OriginPath))
		if o.S3 {
			on.Kids = append(on.Kids, el("S3OriginConfig", leaf("OriginAccessIdentity", "")))
		} else {
			pp := o.ProtocolPolicy
			if pp == "" {
				pp = "https-only"
			}
			hp, sp := o.HTTPPort, o.HTTPSPort
			if hp == 0 {
				hp = 80
			}
			if sp == 0 {
				sp = 443
			}
			on.Kids = append(on.Kids, el("CustomOriginConfig", leaf("HTTPPort", strconv.Itoa(hp)), leaf("HTTPSPort", strconv.Itoa(sp)), leaf("OriginProtocolPolicy", pp)))
		}
		items.Kids = append(items.Kids, on)
	}
	t.Kids = append(t.Kids, el("Origins", leaf("Quantity", strconv.Itoa(len(in.Origins))), items))
	target := in.DefaultOriginID
	if target == "" && len(in.Origins) > 0 {
		target = in.Origins[0].ID
	}
	vpp := in.ViewerProtocolPolicy
	if vpp == "" {
		vpp = "redirect-to-https"
	}
	t.Kids = append(t.Kids,
		el("DefaultCacheBehavior", leaf("TargetOriginId", target), leaf("ViewerProtocolPolicy", vpp),
			leaf("CachePolicyId", "658327ea-f89d-4fab-a63d-7e88639e58f6")),
		leaf("Comment", in.Comment),
		leaf("Enabled", fmt.Sprint(in.Enabled)))
	if in.CertificateArn != "" {
		t.Kids = append(t.Kids, el("ViewerCertificate", leaf("ACMCertificateArn", in.CertificateArn),
			leaf("SSLSupportMethod", "sni-only"), leaf("MinimumProtocolVersion", "TLSv1.2_2021")))
	} else {
		t.Kids = append(t.Kids, el("ViewerCertificate", leaf("CloudFrontDefaultCertificate", "true")))
	}
	if in.PolicyID != "" {
		t.set(leaf("ContinuousDeploymentPolicyId", in.PolicyID), configOrder)
	}
	return t
}
