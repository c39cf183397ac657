package retry

import (
	"errors"
	"net"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Call says whether an operation may be repeated after an ambiguous
// failure. A write that died on a 5xx or a broken connection may already
// have been applied; repeating it would turn our own success into a
// conflict, so only reads retry those.
type Call int

const (
	// Read is a call without effect: any transient fault may be retried.
	Read Call = iota
	// Write is a call with effect: only refusals made before any effect
	// (throttling) are retried.
	Write
)

// throttlingCodes are the AWS error codes that refuse a request for rate
// before it has any effect: Route 53's (Throttling, RequestThrottled,
// PriorRequestNotComplete) and CloudFront's (Throttling,
// TooManyRequestsException, RequestLimitExceeded), with the SDKs' common
// ThrottlingException.
var throttlingCodes = map[string]bool{
	"Throttling":               true,
	"ThrottlingException":      true,
	"RequestThrottled":         true,
	"PriorRequestNotComplete":  true,
	"TooManyRequestsException": true,
	"RequestLimitExceeded":     true,
}

// Throttled reports whether err is an AWS refusal for rate: rejected before
// any effect, so safe to repeat, writes included.
func Throttled(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && throttlingCodes[apiErr.ErrorCode()]
}

// Transient reports a fault a read may safely repeat: a 5xx, or a request
// that never got an answer (a send error, a network error).
func Transient(err error) bool {
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return true
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// Retryable is the one classifier the AWS adapters retry by: a throttled
// call is worth another attempt whatever it does; a transient fault only
// when the call is a Read.
func Retryable(err error, c Call) bool {
	return Throttled(err) || (c == Read && Transient(err))
}
