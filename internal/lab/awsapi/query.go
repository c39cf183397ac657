package awsapi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
)

// The AWS query protocol (STS, ELBv2) carries Action, Version and the
// flattened input as form parameters and answers with an XML envelope named
// after the action. These functions hold the parts every query service
// shares, so each one answers malformed requests the same way.

// DecodeQuery merges a form-encoded body with the URL query, the two places
// the query protocol may carry parameters, and checks that Action is present
// and that Version, when sent, is the service's version.
func DecodeQuery(r *http.Request, version string) (url.Values, error) {
	body, err := ReadBody(r)
	if err != nil {
		return nil, err
	}
	params, perr := url.ParseQuery(string(body))
	if perr != nil {
		return nil, Errorf(http.StatusBadRequest, "MalformedQueryString", "the request body is not a valid query string: %v", perr)
	}
	for k, v := range r.URL.Query() {
		params[k] = append(params[k], v...)
	}
	if params.Get("Action") == "" {
		return nil, Errorf(http.StatusBadRequest, "MissingAction", "Missing Action")
	}
	if v := params.Get("Version"); v != "" && v != version {
		return nil, ErrUnknownAction(params.Get("Action"), v)
	}
	return params, nil
}

// ErrUnknownAction is the error a query service answers for an action it
// does not have in version.
func ErrUnknownAction(action, version string) *Error {
	return Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", action, version)
}

// QueryMembers reads prefix.member.1, prefix.member.2, … up to the first
// missing index, reading at most max members so a request cannot make the
// lab loop without bound.
func QueryMembers(params url.Values, prefix string, max int) []string {
	var out []string
	for i := 1; i <= max; i++ {
		k := fmt.Sprintf("%s.member.%d", prefix, i)
		if _, ok := params[k]; !ok {
			break
		}
		out = append(out, params.Get(k))
	}
	return out
}

// WriteQueryResult writes the query-protocol success envelope
// <ActionResponse xmlns=namespace><ActionResult>…</ActionResult>
// <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></ActionResponse>
// with result encoded as the ActionResult element.
func WriteQueryResult(w http.ResponseWriter, namespace, action string, result any) {
	rid := NewRequestID()
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, action, namespace)
	if err := xml.NewEncoder(&buf).EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
		WriteXMLError(w, namespace, fmt.Errorf("encoding %s result: %w", action, err))
		return
	}
	fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, rid, action)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", rid)
	_, _ = w.Write(buf.Bytes())
}

// ServeQuery answers one query-protocol request: it decodes the parameters,
// calls do with the action and its parameters, and writes do's result in the
// success envelope or its error as an ErrorResponse. do answers an action it
// does not know with ErrUnknownAction.
func ServeQuery(w http.ResponseWriter, r *http.Request, namespace, version string, do func(action string, params url.Values) (any, error)) {
	params, err := DecodeQuery(r, version)
	if err != nil {
		WriteXMLError(w, namespace, err)
		return
	}
	action := params.Get("Action")
	result, err := do(action, params)
	if err != nil {
		WriteXMLError(w, namespace, err)
		return
	}
	WriteQueryResult(w, namespace, action, result)
}
