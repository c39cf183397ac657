package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

const (
	serviceName  = "GraniteServiceVersion20100801"
	apiVersion   = "2010-08-01"
	xmlNamespace = "http://monitoring.amazonaws.com/doc/2010-08-01/"
	shapePrefix  = "com.amazonaws.cloudwatch#"
	cborPath     = "/service/" + serviceName + "/operation/"
	jsonType     = "application/x-amz-json-1.0"
)

// protocol is the wire protocol of one request; the answer uses the same.
type protocol int

const (
	protoQuery protocol = iota
	protoJSON
	protoCBOR
)

func (p protocol) String() string {
	switch p {
	case protoJSON:
		return "json"
	case protoCBOR:
		return "cbor"
	}
	return "query"
}

// errorShapes maps the classic (query) error codes CloudWatch clients switch
// on to the modelled exception shapes. JSON and CBOR answers name the shape
// in __type so typed SDK errors work, and carry the classic code in
// x-amzn-query-error because the service is awsQueryCompatible.
var errorShapes = map[string]string{
	"InvalidParameterValue":       "InvalidParameterValueException",
	"MissingParameter":            "MissingRequiredParameterException",
	"InvalidParameterCombination": "InvalidParameterCombinationException",
	"InvalidNextToken":            "InvalidNextToken",
	"ResourceNotFound":            "ResourceNotFound",
	"LimitExceeded":               "LimitExceededFault",
	"InternalServiceError":        "InternalServiceFault",
}

func errInvalid(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

func errMissing(param string) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "MissingParameter", "The parameter %s is required.", param)
}

func errCombination(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

func errSerialization(format string, args ...any) *awsapi.Error {
	return awsapi.Errorf(http.StatusBadRequest, "SerializationException", format, args...)
}

func errInvalidValue(value any, param string) *awsapi.Error {
	return errInvalid("The value %v for parameter %s is invalid.", value, param)
}

// request is one decoded API call, whatever protocol carried it.
type request struct {
	proto protocol
	op    string
	// body is the operation input as JSON, ready to unmarshal into the
	// operation's input struct.
	body []byte
}

// decodeRequest recognises the protocol of r and turns its input into JSON.
func decodeRequest(r *http.Request) (request, error) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/") || strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor"):
		req := request{proto: protoCBOR}
		op, ok := strings.CutPrefix(r.URL.Path, cborPath)
		if !ok || op == "" || strings.Contains(op, "/") {
			return req, awsapi.Errorf(http.StatusNotFound, "UnknownOperationException", "no operation at %s", r.URL.Path)
		}
		req.op = op
		if r.Method != http.MethodPost {
			return req, awsapi.Errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "rpc-v2-cbor requests must be POST")
		}
		body, err := readBody(r)
		if err != nil {
			return req, err
		}
		req.body, err = cborToJSON(body)
		return req, err
	case r.Header.Get("X-Amz-Target") != "":
		req := request{proto: protoJSON}
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), serviceName+".")
		if !ok || op == "" {
			return req, awsapi.Errorf(http.StatusBadRequest, "UnknownOperationException", "unknown target %q", r.Header.Get("X-Amz-Target"))
		}
		req.op = op
		body, err := readBody(r)
		if err != nil {
			return req, err
		}
		if len(bytes.TrimSpace(body)) == 0 {
			body = []byte("{}")
		}
		if !json.Valid(body) {
			return req, errSerialization("the request body is not valid JSON")
		}
		req.body = body
		return req, nil
	default:
		req := request{proto: protoQuery}
		form, err := queryForm(r)
		if err != nil {
			return req, err
		}
		req.op = form.Get("Action")
		if req.op == "" {
			return req, errMissing("Action")
		}
		if v := form.Get("Version"); v != "" && v != apiVersion {
			return req, awsapi.Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s", req.op, v)
		}
		req.body, err = queryToJSON(form)
		return req, err
	}
}

// readBody reads a bounded body, undoing the gzip request compression that
// both SDKs apply to PutMetricData.
func readBody(r *http.Request) ([]byte, error) {
	body, err := awsapi.ReadBody(r)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return body, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, errSerialization("the gzip request body is corrupt: %v", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, awsapi.MaxBodyBytes+1))
		if err != nil {
			return nil, errSerialization("the gzip request body is corrupt: %v", err)
		}
		if len(out) > awsapi.MaxBodyBytes {
			return nil, awsapi.Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body exceeds %d bytes", awsapi.MaxBodyBytes)
		}
		return out, nil
	}
	return nil, awsapi.Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "unsupported Content-Encoding %q", r.Header.Get("Content-Encoding"))
}

func queryForm(r *http.Request) (url.Values, error) {
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := readBody(r)
		if err != nil {
			return nil, err
		}
		posted, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, awsapi.Errorf(http.StatusBadRequest, "MalformedQueryString", "the request body is not a valid form: %v", err)
		}
		for k, v := range posted {
			form[k] = append(form[k], v...)
		}
	}
	return form, nil
}

// queryList collects the member.N elements of a query-protocol list until
// every key is seen; the indexes then give the order.
type queryList map[int]any

// queryToJSON turns flattened query parameters (MetricData.member.1.Value=2)
// into the JSON document the other protocols would have carried.
func queryToJSON(form url.Values) ([]byte, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "Action" || k == "Version" {
			continue
		}
		if err := queryInsert(root, strings.Split(k, "."), form.Get(k), k); err != nil {
			return nil, err
		}
	}
	return json.Marshal(queryFinish(root))
}

func queryInsert(node map[string]any, path []string, value, full string) error {
	malformed := awsapi.Errorf(http.StatusBadRequest, "MalformedQueryString", "the parameter %s conflicts with another parameter", full)
	var cur any = node
	for i := 0; i < len(path); i++ {
		seg := path[i]
		if seg == "" {
			return malformed
		}
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if (seg == "member" || seg == "entry") && !last {
				// the parent key's value is a list: member.N
				return malformed
			}
			if last {
				if _, exists := c[seg]; exists {
					return malformed
				}
				c[seg] = value
				return nil
			}
			next, ok := c[seg]
			if !ok {
				if path[i+1] == "member" || path[i+1] == "entry" {
					next = queryList{}
					i++ // skip the member/entry marker
				} else {
					next = map[string]any{}
				}
				c[seg] = next
			} else if _, isList := next.(queryList); isList {
				if path[i+1] != "member" && path[i+1] != "entry" {
					return malformed
				}
				i++
			}
			cur = next
		case queryList:
			idx, err := strconv.Atoi(seg)
			if err != nil || idx < 1 || idx > 100000 {
				return awsapi.Errorf(http.StatusBadRequest, "MalformedQueryString", "the parameter %s has a bad list index", full)
			}
			if last {
				if _, exists := c[idx]; exists {
					return malformed
				}
				c[idx] = value
				return nil
			}
			next, ok := c[idx]
			if !ok {
				next = map[string]any{}
				c[idx] = next
			}
			cur = next
		default:
			return malformed
		}
	}
	return malformed
}

func queryFinish(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = queryFinish(e)
		}
		return x
	case queryList:
		idx := make([]int, 0, len(x))
		for i := range x {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		out := make([]any, 0, len(idx))
		for _, i := range idx {
			out = append(out, queryFinish(x[i]))
		}
		return out
	}
	return v
}

var cborDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  32,
		MaxArrayElements: 1 << 17,
		MaxMapPairs:      1 << 17,
		DefaultMapType:   reflect.TypeOf(map[string]any(nil)),
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

// cborToJSON decodes an rpc-v2-cbor body and re-encodes it as JSON, with
// timestamps (tag 1) as epoch seconds, the form the JSON protocol uses.
func cborToJSON(body []byte) ([]byte, error) {
	if len(body) == 0 {
		return []byte("{}"), nil
	}
	var v any
	if err := cborDec.Unmarshal(body, &v); err != nil {
		return nil, errSerialization("the request body is not valid CBOR: %v", err)
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errSerialization("the request body must be a CBOR map")
	}
	n, err := cborNormalize(v)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(n)
	if err != nil {
		return nil, errSerialization("the request body cannot be read: %v", err)
	}
	return out, nil
}

func cborNormalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, bool:
		return x, nil
	case map[string]any:
		for k, e := range x {
			n, err := cborNormalize(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case []any:
		for i, e := range x {
			n, err := cborNormalize(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case float32:
		return floatToJSON(float64(x)), nil
	case float64:
		return floatToJSON(x), nil
	case time.Time:
		return json.Number(strconv.FormatFloat(float64(x.UnixMilli())/1e3, 'f', -1, 64)), nil
	}
	return nil, errSerialization("unsupported CBOR item of type %T", v)
}

// floatToJSON keeps non-finite values as the strings the JSON protocol uses
// for them, so validation can reject them with the parameter's name.
func floatToJSON(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}

// decodeInput unmarshals the request's JSON into an operation's input.
func decodeInput(req request, in any) error {
	if err := json.Unmarshal(req.body, in); err != nil {
		return errInvalid("The request could not be read: %v", err)
	}
	return nil
}

// Output documents are built from these ordered nodes so that one value
// renders as XML (which needs element order, list members and map entries
// spelled out), JSON and CBOR.
type (
	field struct {
		k string
		v any
	}
	obj      []field
	list     []any
	floatMap []field
)

func (o obj) with(k string, v any) obj { return append(o, field{k, v}) }

// withOpt adds v unless it is the zero value of an optional member.
func (o obj) withOpt(k string, v any) obj {
	switch x := v.(type) {
	case string:
		if x == "" {
			return o
		}
	case *float64:
		if x == nil {
			return o
		}
		return append(o, field{k, *x})
	case *int:
		if x == nil {
			return o
		}
		return append(o, field{k, *x})
	case time.Time:
		if x.IsZero() {
			return o
		}
	case nil:
		return o
	}
	return append(o, field{k, v})
}

func writeOutput(w http.ResponseWriter, proto protocol, op string, out obj) {
	rid := awsapi.NewRequestID()
	w.Header().Set("x-amzn-RequestId", rid)
	switch proto {
	case protoCBOR:
		body, err := cbor.Marshal(toCBOR(out))
		if err != nil {
			writeError(w, proto, fmt.Errorf("encoding response: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	case protoJSON:
		var buf bytes.Buffer
		writeJSON(&buf, out)
		w.Header().Set("Content-Type", jsonType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	default:
		var buf bytes.Buffer
		buf.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
		buf.WriteString("<" + op + `Response xmlns="` + xmlNamespace + `">`)
		if len(out) > 0 {
			writeXML(&buf, op+"Result", out)
		}
		buf.WriteString("<ResponseMetadata><RequestId>" + rid + "</RequestId></ResponseMetadata>")
		buf.WriteString("</" + op + "Response>")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	}
}

func toCBOR(v any) any {
	switch x := v.(type) {
	case obj:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.k] = toCBOR(f.v)
		}
		return m
	case floatMap:
		m := make(map[string]any, len(x))
		for _, f := range x {
			m[f.k] = toCBOR(f.v)
		}
		return m
	case list:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toCBOR(e)
		}
		return out
	case time.Time:
		return cbor.Tag{Number: 1, Content: float64(x.UnixMilli()) / 1e3}
	case int:
		return int64(x)
	}
	return v
}

func writeJSON(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case obj:
		writeJSONObject(buf, x)
	case floatMap:
		writeJSONObject(buf, x)
	case list:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSON(buf, e)
		}
		buf.WriteByte(']')
	case time.Time:
		buf.WriteString(strconv.FormatFloat(float64(x.UnixMilli())/1e3, 'f', -1, 64))
	case float64:
		buf.WriteString(formatFloat(x))
	default:
		b, _ := json.Marshal(x)
		buf.Write(b)
	}
}

func writeJSONObject(buf *bytes.Buffer, fields []field) {
	buf.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		buf.Write(k)
		buf.WriteByte(':')
		writeJSON(buf, f.v)
	}
	buf.WriteByte('}')
}

func writeXML(buf *bytes.Buffer, name string, v any) {
	buf.WriteString("<" + name + ">")
	switch x := v.(type) {
	case obj:
		for _, f := range x {
			writeXML(buf, f.k, f.v)
		}
	case floatMap:
		for _, f := range x {
			buf.WriteString("<entry>")
			writeXML(buf, "key", f.k)
			writeXML(buf, "value", f.v)
			buf.WriteString("</entry>")
		}
	case list:
		for _, e := range x {
			writeXML(buf, "member", e)
		}
	case string:
		xmlEscape(buf, x)
	case float64:
		buf.WriteString(formatFloat(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case time.Time:
		buf.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	default:
		xmlEscape(buf, fmt.Sprint(x))
	}
	buf.WriteString("</" + name + ">")
}

func xmlEscape(buf *bytes.Buffer, s string) {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	buf.WriteString(r.Replace(s))
}

func formatFloat(f float64) string {
	if math.Abs(f) >= 1e21 || (f != 0 && math.Abs(f) < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// writeError answers err in the request's protocol.
func writeError(w http.ResponseWriter, proto protocol, err error) {
	e := awsapi.AsError(err)
	switch proto {
	case protoQuery:
		awsapi.WriteXMLError(w, xmlNamespace, e)
		return
	}
	typ := e.Code
	if shape, ok := errorShapes[e.Code]; ok {
		typ = shapePrefix + shape
	}
	fault := "Sender"
	if e.Receiver {
		fault = "Receiver"
	}
	rid := awsapi.NewRequestID()
	w.Header().Set("x-amzn-RequestId", rid)
	w.Header().Set("x-amzn-query-error", e.Code+";"+fault)
	body := map[string]string{"__type": typ, "message": e.Message}
	if proto == protoCBOR {
		b, _ := cbor.Marshal(body)
		w.Header().Set("Content-Type", "application/cbor")
		w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
		w.WriteHeader(e.Status)
		_, _ = w.Write(b)
		return
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// The flex types accept a member in any of the forms the three protocols
// produce: JSON numbers, strings (query protocol), and the JSON protocol's
// "NaN"/"Infinity" spellings.
type (
	flexFloat float64
	flexInt   int64
	flexBool  bool
	flexTime  time.Time
)

func unquote(b []byte) (string, bool) {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false
		}
		return s, true
	}
	return string(b), false
}

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	s, _ := unquote(b)
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*f = flexFloat(v)
	return nil
}

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s, _ := unquote(b)
	s = strings.TrimSpace(s)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// JSON clients may send 60.0; accept integral floats only.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return fmt.Errorf("%q is not an integer", s)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

func (v *flexBool) UnmarshalJSON(b []byte) error {
	s, _ := unquote(b)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		*v = true
	case "false":
		*v = false
	default:
		return fmt.Errorf("%q is not a boolean", s)
	}
	return nil
}

func (t *flexTime) UnmarshalJSON(b []byte) error {
	s, quoted := unquote(b)
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
			return fmt.Errorf("%q is not a valid timestamp", s)
		}
		sec, frac := math.Modf(f)
		*t = flexTime(time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC())
		return nil
	}
	if !quoted {
		return fmt.Errorf("%s is not a valid timestamp", s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			*t = flexTime(v.UTC())
			return nil
		}
	}
	return fmt.Errorf("%q is not a valid timestamp", s)
}

func (t *flexTime) time() time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Time(*t)
}
