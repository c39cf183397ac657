package cloudfront

import (
	"net/http"
	"net/url"
	"strings"
)

// operation names the API operation a request is and the ARN of the
// resource it is authorized on, for the lab's call log; "" when no route
// matches. It follows route: a new route needs a case here too, or its
// calls are logged without an operation.
func (s *Service) operation(r *http.Request, caller string) (op, resource string) {
	rest, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if !ok {
		return "", ""
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	q := r.URL.Query()
	m := r.Method
	switch {
	case seg[0] == "distribution" && len(seg) == 1:
		switch {
		case m == http.MethodPost && q.Has("WithTags"):
			return "CreateDistributionWithTags", s.arn(caller, "distribution", "*")
		case m == http.MethodPost:
			return "CreateDistribution", s.arn(caller, "distribution", "*")
		case m == http.MethodGet:
			return "ListDistributions", ""
		}
	case seg[0] == "distribution" && len(seg) == 2:
		switch m {
		case http.MethodGet:
			return "GetDistribution", s.distributionARN(caller, seg[1])
		case http.MethodDelete:
			return "DeleteDistribution", s.distributionARN(caller, seg[1])
		}
	case seg[0] == "distribution" && len(seg) == 3:
		op := map[string]string{
			"GET config": "GetDistributionConfig", "PUT config": "UpdateDistribution",
			"PUT associate-alias": "AssociateAlias", "POST copy": "CopyDistribution",
			"PUT promote-staging-config": "UpdateDistributionWithStagingConfig",
		}[m+" "+seg[2]]
		if op != "" {
			return op, s.distributionARN(caller, seg[1])
		}
	case seg[0] == "conflicting-alias" && len(seg) == 1 && m == http.MethodGet:
		return "ListConflictingAliases", s.distributionARN(caller, q.Get("DistributionId"))
	case seg[0] == "continuous-deployment-policy":
		return s.policyOperation(m, seg[1:], caller)
	}
	return "", ""
}

func (s *Service) policyOperation(m string, seg []string, caller string) (op, resource string) {
	switch {
	case len(seg) == 0 && m == http.MethodPost:
		return "CreateContinuousDeploymentPolicy", s.arn(caller, "continuous-deployment-policy", "*")
	case len(seg) == 0 && m == http.MethodGet:
		return "ListContinuousDeploymentPolicies", ""
	case len(seg) == 2 && seg[1] == "config" && m == http.MethodGet:
		return "GetContinuousDeploymentPolicyConfig", s.policyARN(caller, seg[0])
	case len(seg) == 1:
		op := map[string]string{http.MethodGet: "GetContinuousDeploymentPolicy", http.MethodPut: "UpdateContinuousDeploymentPolicy", http.MethodDelete: "DeleteContinuousDeploymentPolicy"}[m]
		if op != "" {
			return op, s.policyARN(caller, seg[0])
		}
	}
	return "", ""
}

func (s *Service) arn(account, kind, id string) string {
	return "arn:aws:cloudfront::" + account + ":" + kind + "/" + id
}

// distributionARN is the distribution's ARN in its owner's account; an id
// the lab does not know is named in the caller's.
func (s *Service) distributionARN(caller, id string) string {
	if id, _ = url.PathUnescape(id); id == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dists[id]; ok {
		return s.arn(d.Account, "distribution", id)
	}
	return s.arn(caller, "distribution", id)
}

func (s *Service) policyARN(caller, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.policies[id]; ok {
		return s.arn(p.Account, "continuous-deployment-policy", id)
	}
	return s.arn(caller, "continuous-deployment-policy", id)
}
