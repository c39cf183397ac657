package retry

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// statusErr carries an HTTP status the way the SDK's response errors do.
type statusErr struct{ code int }

func (e statusErr) Error() string       { return fmt.Sprintf("status %d", e.code) }
func (e statusErr) HTTPStatusCode() int { return e.code }

func TestRetryable(t *testing.T) {
	api := func(code string) error {
		return fmt.Errorf("calling: %w", &smithy.GenericAPIError{Code: code, Message: "m"})
	}
	cases := []struct {
		name        string
		err         error
		read, write bool
	}{
		{"throttling", api("Throttling"), true, true},
		{"throttling exception", api("ThrottlingException"), true, true},
		{"route 53 throttled", api("RequestThrottled"), true, true},
		{"route 53 prior request", api("PriorRequestNotComplete"), true, true},
		{"cloudfront too many", api("TooManyRequestsException"), true, true},
		{"cloudfront limit", api("RequestLimitExceeded"), true, true},
		{"invalid batch", api("InvalidChangeBatch"), false, false},
		{"5xx", statusErr{503}, true, false},
		{"4xx", statusErr{400}, false, false},
		{"send error", &smithyhttp.RequestSendError{Err: errors.New("reset")}, true, false},
		{"net error", &net.OpError{Op: "dial", Err: errors.New("refused")}, true, false},
		{"plain", errors.New("boom"), false, false},
		{"nil", nil, false, false},
	}
	for _, c := range cases {
		if got := Retryable(c.err, Read); got != c.read {
			t.Errorf("%s: Retryable(read) = %v, want %v", c.name, got, c.read)
		}
		if got := Retryable(c.err, Write); got != c.write {
			t.Errorf("%s: Retryable(write) = %v, want %v", c.name, got, c.write)
		}
	}
	if Throttled(statusErr{http.StatusTooManyRequests}) {
		t.Error("a bare 429 without an AWS code counted as throttling")
	}
}
