package route53

import (
	"fmt"
	"net"
	"net/http"
	"reflect"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// checkerRegions are the regions Route 53 health checkers run in, and the
// made-up checker address the lab reports for each.
var checkerRegions = []struct{ region, ip string }{
	{"us-east-1", "15.177.2.11"},
	{"us-west-1", "15.177.10.11"},
	{"us-west-2", "15.177.14.11"},
	{"eu-west-1", "15.177.62.11"},
	{"ap-southeast-1", "15.177.82.11"},
	{"ap-southeast-2", "15.177.78.11"},
	{"ap-northeast-1", "15.177.42.11"},
	{"sa-east-1", "15.177.50.11"},
}

var healthCheckTypes = []string{"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP", "CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"}

// healthCheck is one health check. requested is the configuration as the
// client sent it (CallerReference idempotency compares it); config has the
// defaults filled in.
type healthCheck struct {
	id, account, callerRef string
	requested, config      xmlHealthCheckConfig
	version                int64
	deleted                bool
}

func (hc *healthCheck) xml() xmlHealthCheck {
	return xmlHealthCheck{ID: hc.id, CallerReference: hc.callerRef, HealthCheckConfig: hc.config, HealthCheckVersion: hc.version}
}

func noSuchHealthCheck(id string) *awsapi.Error {
	return awsapi.Errorf(http.StatusNotFound, "NoSuchHealthCheck", "No health check exists with the specified ID %s", id)
}

// checkFor finds a live health check of the caller's account.
func (s *Service) checkFor(id awsapi.Identity, hcID string) (*healthCheck, *awsapi.Error) {
	hc := s.checks[hcID]
	if hc == nil || hc.deleted || hc.account != id.AccountID {
		return nil, noSuchHealthCheck(hcID)
	}
	return hc, nil
}

func isEndpointType(t string) bool {
	switch t {
	case "HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP":
		return true
	}
	return false
}

// validateHealthCheck checks a complete configuration (after defaults).
func (s *Service) validateHealthCheck(account string, c *xmlHealthCheckConfig) *awsapi.Error {
	if !oneOf(c.Type, healthCheckTypes) {
		return errInvalidInput("1 validation error detected: Value '%s' at 'healthCheckConfig.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP, CALCULATED, CLOUDWATCH_METRIC, RECOVERY_CONTROL]", c.Type)
	}
	if c.RequestInterval != nil && *c.RequestInterval != 10 && *c.RequestInterval != 30 {
		return errInvalidInput("Invalid parameter : RequestInterval must be 10 or 30")
	}
	if c.FailureThreshold != nil && (*c.FailureThreshold < 1 || *c.FailureThreshold > 10) {
		return errInvalidInput("Invalid parameter : FailureThreshold must be between 1 and 10")
	}
	if c.Port != nil && (*c.Port < 1 || *c.Port > 65535) {
		return errInvalidInput("Invalid parameter : Port must be between 1 and 65535")
	}
	if c.IPAddress != "" && net.ParseIP(c.IPAddress) == nil {
		return errInvalidInput("Invalid parameter : IPAddress %s is not a valid IP address", c.IPAddress)
	}
	if isEndpointType(c.Type) && c.IPAddress == "" && c.FullyQualifiedDomainName == "" {
		return errInvalidInput("Invalid parameter : a health check of type %s needs an IPAddress or a FullyQualifiedDomainName", c.Type)
	}
	if (c.Type == "HTTP_STR_MATCH" || c.Type == "HTTPS_STR_MATCH") && c.SearchString == "" {
		return errInvalidInput("Invalid parameter : a health check of type %s needs a SearchString", c.Type)
	}
	if c.Type == "CALCULATED" {
		if c.HealthThreshold == nil || *c.HealthThreshold < 0 || *c.HealthThreshold > 256 {
			return errInvalidInput("Invalid parameter : a CALCULATED health check needs a HealthThreshold between 0 and 256")
		}
		if c.ChildHealthChecks != nil {
			for _, child := range c.ChildHealthChecks.Items {
				if hc := s.checks[child]; hc == nil || hc.deleted || hc.account != account {
					return noSuchHealthCheck(child)
				}
			}
		}
	}
	if c.Type == "CLOUDWATCH_METRIC" && c.AlarmIdentifier == nil {
		return errInvalidInput("Invalid parameter : a CLOUDWATCH_METRIC health check needs an AlarmIdentifier")
	}
	if c.Regions != nil {
		if len(c.Regions.Items) < 3 {
			return errInvalidInput("Invalid parameter : Regions must name at least 3 regions")
		}
		for _, r := range c.Regions.Items {
			ok := false
			for _, cr := range checkerRegions {
				ok = ok || cr.region == r
			}
			if !ok {
				return errInvalidInput("1 validation error detected: Value '%s' at 'healthCheckConfig.regions.member' failed to satisfy constraint: Member must satisfy enum value set: [us-east-1, us-west-1, us-west-2, eu-west-1, ap-southeast-1, ap-southeast-2, ap-northeast-1, sa-east-1]", r)
			}
		}
	}
	return nil
}

func i32(v int32) *int32 { return &v }

// withDefaults fills in what Route 53 fills in on create.
func withDefaults(in xmlHealthCheckConfig) xmlHealthCheckConfig {
	c := in
	https := c.Type == "HTTPS" || c.Type == "HTTPS_STR_MATCH"
	if isEndpointType(c.Type) {
		if c.Port == nil {
			switch {
			case https:
				c.Port = i32(443)
			case c.Type != "TCP":
				c.Port = i32(80)
			}
		}
		if c.RequestInterval == nil {
			c.RequestInterval = i32(30)
		}
		if c.FailureThreshold == nil {
			c.FailureThreshold = i32(3)
		}
		if c.MeasureLatency == nil {
			c.MeasureLatency = Bool(false)
		}
		if c.EnableSNI == nil {
			c.EnableSNI = Bool(https)
		}
	}
	if c.Inverted == nil {
		c.Inverted = Bool(false)
	}
	if c.Disabled == nil {
		c.Disabled = Bool(false)
	}
	return c
}

// createHealthCheck is CreateHealthCheck with its CallerReference rules: the
// same reference and settings return the existing check; different settings,
// or the reference of a deleted check, give HealthCheckAlreadyExists.
func (s *Service) createHealthCheck(id awsapi.Identity, ref string, cfg xmlHealthCheckConfig) (*healthCheck, *awsapi.Error) {
	if ref == "" || len(ref) > 64 {
		return nil, errInvalidInput("1 validation error detected: Value '%s' at 'callerReference' failed to satisfy constraint: Member must have length between 1 and 64", ref)
	}
	refKey := id.AccountID + "\x00" + ref
	if prev := s.checkRefs[refKey]; prev != nil {
		if prev.deleted || !reflect.DeepEqual(prev.requested, cfg) {
			return nil, awsapi.Errorf(http.StatusConflict, "HealthCheckAlreadyExists", "A health check with the CallerReference %s already exists, or existed and was deleted.", ref)
		}
		return prev, nil
	}
	full := withDefaults(cfg)
	if err := s.validateHealthCheck(id.AccountID, &full); err != nil {
		return nil, err
	}
	n := 0
	for _, hc := range s.checks {
		if hc.account == id.AccountID && !hc.deleted {
			n++
		}
	}
	if n >= maxHealthChecks {
		return nil, awsapi.Errorf(http.StatusBadRequest, "TooManyHealthChecks", "You have reached the maximum number of active health checks for an AWS account.")
	}
	// A UUID whose first group counts up, so ids sort by age (the Marker
	// of ListHealthChecks relies on it).
	s.idSeq++
	hcID := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", s.idSeq, s.rnd.Intn(1<<16), s.rnd.Intn(1<<12), 0x8000|s.rnd.Intn(1<<14), s.rnd.Int63n(1<<48))
	hc := &healthCheck{id: hcID, account: id.AccountID, callerRef: ref, requested: cfg, config: full, version: 1}
	s.checks[hcID] = hc
	s.checkRefs[refKey] = hc
	s.env.History.Record(id, "route53", "CreateHealthCheck", "/healthcheck/"+hcID, nil, hc.xml())
	return hc, nil
}

// updateHealthCheck is UpdateHealthCheck.
func (s *Service) updateHealthCheck(id awsapi.Identity, hcID string, req *updateHealthCheckRequest) (*healthCheck, *awsapi.Error) {
	hc, err := s.checkFor(id, hcID)
	if err != nil {
		return nil, err
	}
	if req.HealthCheckVersion != nil && *req.HealthCheckVersion != hc.version {
		return nil, awsapi.Errorf(http.StatusConflict, "HealthCheckVersionMismatch", "The value of HealthCheckVersion in the request doesn't match the value of HealthCheckVersion in the health check.")
	}
	c := hc.config
	// Each element the request carries replaces the stored one.
	patchValue(&c.IPAddress, req.IPAddress)
	patchPointer(&c.Port, req.Port)
	patchValue(&c.ResourcePath, req.ResourcePath)
	patchValue(&c.FullyQualifiedDomainName, req.FullyQualifiedDomainName)
	patchValue(&c.SearchString, req.SearchString)
	patchPointer(&c.FailureThreshold, req.FailureThreshold)
	patchPointer(&c.Inverted, req.Inverted)
	patchPointer(&c.Disabled, req.Disabled)
	patchPointer(&c.HealthThreshold, req.HealthThreshold)
	patchPointer(&c.ChildHealthChecks, req.ChildHealthChecks)
	patchPointer(&c.EnableSNI, req.EnableSNI)
	patchPointer(&c.Regions, req.Regions)
	patchPointer(&c.AlarmIdentifier, req.AlarmIdentifier)
	patchValue(&c.InsufficientDataHealthStatus, req.InsufficientDataHealthStatus)
	if req.ResetElements != nil {
		for _, e := range req.ResetElements.Items {
			switch e {
			case "FullyQualifiedDomainName":
				c.FullyQualifiedDomainName = ""
			case "Regions":
				c.Regions = nil
			case "ResourcePath":
				c.ResourcePath = ""
			case "ChildHealthChecks":
				c.ChildHealthChecks = nil
			default:
				return nil, errInvalidInput("1 validation error detected: Value '%s' at 'resetElements.member' failed to satisfy constraint: Member must satisfy enum value set: [FullyQualifiedDomainName, Regions, ResourcePath, ChildHealthChecks]", e)
			}
		}
	}
	if err := s.validateHealthCheck(id.AccountID, &c); err != nil {
		return nil, err
	}
	before := hc.xml()
	hc.config = c
	hc.version++
	s.env.History.Record(id, "route53", "UpdateHealthCheck", "/healthcheck/"+hc.id, before, hc.xml())
	return hc, nil
}

// deleteHealthCheck is DeleteHealthCheck. Route 53 no longer refuses to
// delete a check that records still name (HealthCheckInUse "is not in
// use"); such records then count as healthy.
func (s *Service) deleteHealthCheck(id awsapi.Identity, hcID string) *awsapi.Error {
	hc, err := s.checkFor(id, hcID)
	if err != nil {
		return err
	}
	hc.deleted = true
	delete(s.health, hc.id)
	s.env.History.Record(id, "route53", "DeleteHealthCheck", "/healthcheck/"+hc.id, hc.xml(), nil)
	return nil
}

// SetHealthCheckStatus records what the lab's data plane observed when it
// probed the endpoint of health check id. Until it is called, a health
// check's endpoint counts as healthy.
func (s *Service) SetHealthCheckStatus(id string, healthy bool) {
	s.mu.Lock()
	s.health[id] = healthy
	s.mu.Unlock()
}

// HealthCheckHealthy reports the status Route 53 would act on: the probe
// result (healthy until set), inverted when the check is Inverted, always
// healthy when Disabled, and for a CALCULATED check whether at least
// HealthThreshold children are healthy. An unknown or deleted id is healthy.
func (s *Service) HealthCheckHealthy(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.healthy(id, 0)
}

func (s *Service) healthy(id string, depth int) bool {
	hc := s.checks[id]
	if hc == nil || hc.deleted || depth > 8 {
		return true
	}
	c := hc.config
	if c.Disabled != nil && *c.Disabled {
		return true
	}
	h := true
	if c.Type == "CALCULATED" {
		n := 0
		if c.ChildHealthChecks != nil {
			for _, child := range c.ChildHealthChecks.Items {
				if s.healthy(child, depth+1) {
					n++
				}
			}
		}
		h = c.HealthThreshold == nil || int32(n) >= *c.HealthThreshold
	} else if v, ok := s.health[id]; ok {
		h = v
	}
	if c.Inverted != nil && *c.Inverted {
		h = !h
	}
	return h
}

// observations are GetHealthCheckStatus's per-checker reports: every
// emulated checker region (or the configured ones) sees the same status.
func (s *Service) observations(hc *healthCheck) []xmlObservation {
	ok := s.healthy(hc.id, 0)
	if hc.config.Inverted != nil && *hc.config.Inverted {
		ok = !ok // checkers report what they saw, before inversion
	}
	status := "Success: HTTP Status Code 200, OK"
	switch {
	case !ok:
		status = "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
	case hc.config.Type == "TCP":
		status = "Success: TCP connection established"
	case hc.config.Type == "CALCULATED":
		status = "Success: the calculated health check is healthy"
	}
	var want map[string]bool
	if hc.config.Regions != nil {
		want = map[string]bool{}
		for _, r := range hc.config.Regions.Items {
			want[r] = true
		}
	}
	now := timestamp(s.env.Clock.Now())
	var out []xmlObservation
	for _, cr := range checkerRegions {
		if want != nil && !want[cr.region] {
			continue
		}
		out = append(out, xmlObservation{Region: cr.region, IPAddress: cr.ip, StatusReport: xmlStatusReport{Status: status, CheckedTime: now}})
	}
	return out
}

// patchValue sets *to to *from when the update request carried the element.
func patchValue[T any](to *T, from *T) {
	if from != nil {
		*to = *from
	}
}

// patchPointer points *to at from when the update request carried the
// element, for members the config keeps optional.
func patchPointer[T any](to **T, from *T) {
	if from != nil {
		*to = from
	}
}
