package lab

import (
	"net/http"
	"strings"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// protocol is how a service encodes its errors on the wire.
type protocol int

const (
	protoXML protocol = iota // REST-XML and query: the ErrorResponse envelope
	protoJSON11
	protoCloudWatch // CBOR, JSON 1.0 or query, chosen per request
)

type service struct {
	handler  http.Handler
	protocol protocol
}

// serviceFor picks the emulated service a request is for, the way AWS
// endpoints do: first by the signing name in the SigV4 credential scope, then,
// for requests without one, by the protocol's own markers.
func serviceFor(r *http.Request) string {
	if sc, ok := awsapi.ParseScope(r); ok {
		return sc.Service
	}
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(r.URL.Path, "/2013-04-01/"):
		return "route53"
	case strings.HasPrefix(r.URL.Path, "/2020-05-31/"):
		return "cloudfront"
	case strings.HasPrefix(r.URL.Path, "/service/GraniteServiceVersion20100801/"),
		strings.HasPrefix(target, "GraniteServiceVersion20100801."):
		return "monitoring"
	case strings.HasPrefix(target, "CertificateManager."):
		return "acm"
	}
	// Query protocol: the Version parameter names the API.
	switch queryVersion(r) {
	case "2011-06-15":
		return "sts"
	case "2015-12-01":
		return "elasticloadbalancing"
	case "2010-08-01":
		return "monitoring"
	}
	return ""
}

// queryVersion reads the Version parameter of a query-protocol request
// without consuming the body the service still has to read.
func queryVersion(r *http.Request) string {
	if v := r.URL.Query().Get("Version"); v != "" {
		return v
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := awsapi.ReadBody(r)
	if err != nil {
		return ""
	}
	r.Body = newBody(body)
	return parseFormValue(string(body), "Version")
}

// writeError answers in the error shape the service's protocol uses, so a
// client of that service parses it as it would parse AWS's.
func writeError(w http.ResponseWriter, r *http.Request, p protocol, err *awsapi.Error) {
	switch p {
	case protoJSON11:
		awsapi.WriteJSONError(w, "application/x-amz-json-1.1", false, err)
	case protoCloudWatch:
		switch {
		case r.Header.Get("smithy-protocol") == "rpc-v2-cbor":
			awsapi.WriteCBORError(w, true, err)
		case r.Header.Get("X-Amz-Target") != "":
			awsapi.WriteJSONError(w, "application/x-amz-json-1.0", true, err)
		default:
			awsapi.WriteXMLError(w, "", err)
		}
	default:
		awsapi.WriteXMLError(w, "", err)
	}
}
