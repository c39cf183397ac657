package route53

// AliasZoneForCloudFront is the hosted zone id every CloudFront distribution
// answers alias records from.
const AliasZoneForCloudFront = "Z2FDTNDATAQYW2"

// AliasZoneForGlobalAccelerator is the hosted zone id for alias records that
// target a Global Accelerator.
const AliasZoneForGlobalAccelerator = "Z2BJ6XQ5FK7U4H"

// albZones maps a region to the alias hosted zone id of its Application and
// Classic Load Balancers. Network Load Balancers use different zones.
var albZones = map[string]string{
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

// ALBZoneID returns the alias hosted zone id for an ALB or CLB in region.
// The table covers the common regions only and can fall behind AWS; callers
// that can reach the load balancer should prefer the
// CanonicalHostedZoneId that DescribeLoadBalancers returns for it, and use
// this as an offline fallback.
func ALBZoneID(region string) (string, bool) {
	id, ok := albZones[region]
	return id, ok
}
