package cloudfront

import (
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// maxAliases is CloudFront's default quota of alternate domain names per
// distribution.
const maxAliases = 100

const msgNeedCert = "To add an alternate domain name (CNAME) to a CloudFront distribution, you must attach a trusted certificate that validates your authorization to use the domain name. For more details, see: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/CNAMEs.html#alternate-domain-names-requirements"

const msgBadCert = "The specified SSL certificate doesn't exist, isn't in us-east-1 region, isn't valid, or doesn't include a valid certificate chain."

const msgCNAMEExists = "One or more of the CNAMEs you provided are already associated with a different resource."

// checkAliasSyntax applies CloudFront's rules for one alternate domain
// name: lowercase, DNS-shaped, a wildcard only as a whole `*.` first label
// and never directly above a top-level domain.
func checkAliasSyntax(a string) error {
	if a == "" || len(a) > 253 {
		return invalidArg("The parameter CNAME has an invalid length: %q.", a)
	}
	if a != strings.ToLower(a) {
		return invalidArg("The parameter CNAME contains one or more characters that are not valid: %s must be lowercase.", a)
	}
	labels := strings.Split(a, ".")
	for i, l := range labels {
		if l == "*" && i == 0 {
			continue
		}
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return invalidArg("The parameter CNAME contains one or more characters that are not valid: %s.", a)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return invalidArg("The parameter CNAME contains one or more characters that are not valid: %s.", a)
			}
		}
	}
	if len(labels) < 2 {
		return invalidArg("The parameter CNAME must be a fully qualified domain name: %s.", a)
	}
	if labels[0] == "*" && len(labels) < 3 {
		return invalidArg("The parameter CNAME cannot be a wildcard for a top-level domain: %s.", a)
	}
	return nil
}

func checkAliases(aliases []string) error {
	if len(aliases) > maxAliases {
		return awsapi.Errorf(http.StatusBadRequest, "TooManyDistributionCNAMEs", "Your request contains more CNAMEs than are allowed per distribution.")
	}
	seen := map[string]bool{}
	for _, a := range aliases {
		if err := checkAliasSyntax(a); err != nil {
			return err
		}
		if seen[a] {
			return invalidArg("The parameter CNAME contains a duplicate value: %s.", a)
		}
		seen[a] = true
	}
	return nil
}

// certCovers reports whether a certificate name (domain or SAN) covers an
// alias. A certificate wildcard covers exactly one label; a wildcard alias
// is covered only by the same wildcard.
func certCovers(certName, alias string) bool {
	certName = strings.ToLower(strings.TrimSuffix(certName, "."))
	if certName == alias {
		return true
	}
	if rest, ok := strings.CutPrefix(certName, "*."); ok && !strings.HasPrefix(alias, "*.") {
		i := strings.IndexByte(alias, '.')
		return i > 0 && alias[i+1:] == rest
	}
	return false
}

// aliasCovers reports whether a wildcard alias answers for host at the edge.
// Unlike a certificate, a CloudFront wildcard alias matches names at any
// depth below it (*.example.com answers a.b.example.com).
func aliasCovers(wildcard, host string) bool {
	rest, ok := strings.CutPrefix(wildcard, "*.")
	return ok && host != wildcard && strings.HasSuffix(host, "."+rest)
}

// maskID hides an identifier that belongs to another account the way
// ListConflictingAliases does: a fixed run of asterisks, then a suffix
// (observed: ******5LVBHXZ for a distribution, ********0621 for an account).
func maskID(id string, stars, keep int) string {
	if len(id) > keep {
		id = id[len(id)-keep:]
	}
	return strings.Repeat("*", stars) + id
}

func maskDistributionID(id string) string { return maskID(id, 6, 7) }

func maskAccountID(id string) string { return maskID(id, 8, 4) }
