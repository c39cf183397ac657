package awsapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/fxamacker/cbor/v2"
)

// Error is an AWS service error: the HTTP status, the error code clients
// switch on (InvalidChangeBatch, CNAMEAlreadyExists, …) and the message.
type Error struct {
	Status  int
	Code    string
	Message string
	// Sender is true for client faults (the usual case); false marks a
	// Receiver (server) fault.
	Receiver bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds a client-fault Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError converts any error to an *Error; an unknown error becomes a 500
// InternalFailure so a handler never leaks a Go error string as a protocol.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error(), Receiver: true}
}

func (e *Error) faultType() string {
	if e.Receiver {
		return "Receiver"
	}
	return "Sender"
}

// Common errors shared by every protocol.
var (
	ErrThrottling = &Error{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}
)

// NewRequestID returns a fresh request id in the UUID shape AWS uses.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// WriteXMLError writes the ErrorResponse envelope used by the REST-XML
// services (Route 53, CloudFront) and, with an empty namespace, by the query
// protocol services (STS, ELBv2, CloudWatch query mode).
func WriteXMLError(w http.ResponseWriter, namespace string, err error) {
	e := AsError(err)
	rid := NewRequestID()
	body, _ := xml.Marshal(xmlErrorResponse{
		Xmlns:     namespace,
		Error:     xmlError{Type: e.faultType(), Code: e.Code, Message: e.Message},
		RequestID: rid,
	})
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", rid)
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

// WriteJSONError writes an error for the JSON 1.0/1.1 protocols. For services
// that are awsQueryCompatible (CloudWatch) it also sets x-amzn-query-error so
// clients recover the classic error code.
func WriteJSONError(w http.ResponseWriter, contentType string, queryCompatible bool, err error) {
	e := AsError(err)
	rid := NewRequestID()
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-RequestId", rid)
	w.Header().Set("X-Amzn-Errortype", e.Code)
	if queryCompatible {
		w.Header().Set("x-amzn-query-error", e.Code+";"+e.faultType())
	}
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

// WriteCBORError writes an error for the Smithy RPC v2 CBOR protocol.
func WriteCBORError(w http.ResponseWriter, queryCompatible bool, err error) {
	e := AsError(err)
	rid := NewRequestID()
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("smithy-protocol", "rpc-v2-cbor")
	w.Header().Set("x-amzn-RequestId", rid)
	if queryCompatible {
		w.Header().Set("x-amzn-query-error", e.Code+";"+e.faultType())
	}
	w.WriteHeader(e.Status)
	body, _ := cbor.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	_, _ = w.Write(body)
}

// MaxBodyBytes bounds every request body the lab reads. AWS rejects larger
// requests long before this; the lab just must never be made to buffer
// without bound.
const MaxBodyBytes = 8 << 20

// ReadBody reads a bounded request body, answering oversized bodies with an
// AWS-shaped error.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "request body exceeds %d bytes", MaxBodyBytes)
		}
		return nil, Errorf(http.StatusBadRequest, "MalformedInput", "reading request body: %v", err)
	}
	return b, nil
}
