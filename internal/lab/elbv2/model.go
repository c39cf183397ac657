package elbv2

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// Target health states (TargetHealth.State).
const (
	StateInitial   = "initial"
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
	StateUnused    = "unused"
	StateDraining  = "draining"
	StateUnavail   = "unavailable"
	// StateUnhealthyDraining is in the AWS enum; the lab never derives it
	// but the data plane may set it.
	StateUnhealthyDraining = "unhealthy.draining"
)

// reasons maps each state to the reason codes AWS pairs with it, and each
// reason to the description AWS sends.
var reasons = map[string]map[string]string{
	StateInitial: {
		"Elb.RegistrationInProgress": "Target registration is in progress",
		"Elb.InitialHealthChecking":  "Initial health checks in progress",
	},
	StateHealthy: {"": ""},
	StateUnhealthy: {
		"Target.ResponseCodeMismatch": "Health checks failed with these codes: [502]",
		"Target.Timeout":              "Request timed out",
		"Target.FailedHealthChecks":   "Health checks failed",
		"Elb.InternalError":           "Health checks failed due to an internal error",
	},
	StateUnhealthyDraining: {
		"Target.ResponseCodeMismatch": "Health checks failed with these codes: [502]",
		"Target.Timeout":              "Request timed out",
		"Target.FailedHealthChecks":   "Health checks failed",
	},
	StateUnused: {
		"Target.NotRegistered": "Target is not registered to the target group",
		"Target.NotInUse":      "Target group is not configured to receive traffic from the load balancer",
		"Target.InvalidState":  "Target is in the stopped or terminated state",
		"Target.IpUnusable":    "The target IP address is reserved for use by a load balancer",
	},
	StateDraining: {"Target.DeregistrationInProgress": "Target deregistration is in progress"},
	StateUnavail: {
		"Target.HealthCheckDisabled": "Health checks are disabled for this target group",
		"Elb.InternalError":          "Health checks failed due to an internal error",
	},
}

// CanonicalZones is the Route 53 hosted zone of Application Load Balancers
// per region, what DescribeLoadBalancers reports as CanonicalHostedZoneId.
var CanonicalZones = map[string]string{
	"us-east-1":      "Z35SXDOTRQ7X7K",
	"us-east-2":      "Z3AADJGX6KTTL2",
	"us-west-1":      "Z368ELLRRE2KJ0",
	"us-west-2":      "Z1H1FL5HABSF5",
	"eu-west-1":      "Z32O12XQLNTSW2",
	"eu-west-2":      "ZHURV8PSTC4K8",
	"eu-central-1":   "Z215JYRZR1TBD5",
	"ap-northeast-1": "Z14GRHDCWA56QT",
	"ap-southeast-1": "Z1LMS91P8CMLE5",
	"ap-southeast-2": "Z1GM3OXH4ZPM65",
	"ap-south-1":     "ZP97RAFLXTNZK",
	"sa-east-1":      "Z2P70J7HTTTPLU",
	"ca-central-1":   "ZQSVJUPU6J1EY",
}

// Health is a target's reported health.
type Health struct {
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

type loadBalancer struct {
	Seq       int64     `json:"seq"`
	ARN       string    `json:"arn"`
	Name      string    `json:"name"`
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	DNSName   string    `json:"dns_name"`
	ZoneID    string    `json:"zone_id"`
	Scheme    string    `json:"scheme"`
	VpcID     string    `json:"vpc_id"`
	Subnets   []string  `json:"subnets,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// RuleTargetGroups are target groups reached through listener rules
	// (created by the Go API); they count as in use like a default action.
	RuleTargetGroups []string `json:"rule_target_groups,omitempty"`
}

type targetGroup struct {
	Seq             int64     `json:"seq"`
	ARN             string    `json:"arn"`
	Name            string    `json:"name"`
	Account         string    `json:"account"`
	Region          string    `json:"region"`
	Protocol        string    `json:"protocol"`
	Port            int       `json:"port"`
	VpcID           string    `json:"vpc_id"`
	TargetType      string    `json:"target_type"`
	HealthCheckPath string    `json:"health_check_path"`
	Targets         []*target `json:"targets,omitempty"`
	// InUseSince is when a load balancer first started forwarding to the
	// group; health checks (and so the initial period) start then.
	InUseSince time.Time `json:"in_use_since,omitzero"`
}

type target struct {
	ID             string    `json:"id"`
	Port           int       `json:"port"`
	RegisteredAt   time.Time `json:"registered_at"`
	DeregisteredAt time.Time `json:"deregistered_at,omitzero"`
	// Reported is the health the data plane observed; nil until it reports.
	Reported *Health `json:"reported,omitempty"`
}

type listener struct {
	Seq            int64    `json:"seq"`
	ARN            string   `json:"arn"`
	LoadBalancer   string   `json:"load_balancer"`
	Protocol       string   `json:"protocol"`
	Port           int      `json:"port"`
	TargetGroup    string   `json:"target_group"`
	CertificateARN []string `json:"certificate_arns,omitempty"`
}

func randomHex(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(1)
		}
		b.WriteString(d.String())
	}
	return b.String()
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,32}$`)

func validationError(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

// nullError is the validation error for a required member the request left
// out; field is the member's name as the model spells it (loadBalancerArn).
func nullError(field string) *awsapi.Error {
	return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

func checkLBName(name string) error {
	switch {
	case name == "":
		return nullError("name")
	case len(name) > 32:
		return validationError("Load balancer name '%s' cannot be longer than '32' characters", name)
	case !namePattern.MatchString(name):
		return validationError("Load balancer name '%s' can only contain characters that are alphanumeric characters and hyphens(-)", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return validationError("Load balancer name '%s' cannot begin or end with a hyphen(-)", name)
	case strings.HasPrefix(strings.ToLower(name), "internal-"):
		return validationError("Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	return nil
}

func checkTGName(name string) error {
	switch {
	case name == "":
		return nullError("name")
	case len(name) > 32:
		return validationError("Target group name '%s' cannot be longer than '32' characters", name)
	case !namePattern.MatchString(name):
		return validationError("Target group name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return validationError("Target group name '%s' cannot begin or end with '-'", name)
	}
	return nil
}

var instanceID = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

func checkTargetID(targetType, id string) error {
	switch targetType {
	case "ip":
		if net.ParseIP(id) == nil {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidTarget", "The IP address '%s' is not a valid IPv4 address", id)
		}
	default:
		if !instanceID.MatchString(id) {
			return awsapi.Errorf(http.StatusBadRequest, "InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", id)
		}
	}
	return nil
}

// health evaluates a target's health at now. The second result is false
// once a deregistered target has finished draining and no longer exists.
func (tg *targetGroup) health(t *target, now time.Time, inUse bool, healthyAfter, drain time.Duration) (Health, bool) {
	if !t.DeregisteredAt.IsZero() {
		if now.Before(t.DeregisteredAt.Add(drain)) {
			return describe(StateDraining, "Target.DeregistrationInProgress"), true
		}
		return Health{}, false
	}
	if !inUse {
		return describe(StateUnused, "Target.NotInUse"), true
	}
	if t.Reported != nil {
		return *t.Reported, true
	}
	start := t.RegisteredAt
	if tg.InUseSince.After(start) {
		start = tg.InUseSince
	}
	if now.Before(start.Add(healthyAfter)) {
		return describe(StateInitial, "Elb.RegistrationInProgress"), true
	}
	return Health{State: StateHealthy}, true
}

func describe(state, reason string) Health {
	return Health{State: state, Reason: reason, Description: reasons[state][reason]}
}

func parseARNRegionAccount(arn string) (region, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return "", "", false
	}
	return parts[3], parts[4], true
}

func lbARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%s", region, account, name, randomHex(16))
}

func tgARN(region, account, name string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%s", region, account, name, randomHex(16))
}

func listenerARN(lb *loadBalancer) string {
	// listener/app/<lb name>/<lb id>/<listener id>
	_, suffix, _ := strings.Cut(lb.ARN, ":loadbalancer/")
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener/%s/%s", lb.Region, lb.Account, suffix, randomHex(16))
}
