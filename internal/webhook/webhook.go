// Package webhook calls a plan's webhooks: a JSON document POSTed to each
// receiver, signed with HMAC-SHA256, whose answer decides whether the run
// goes on. A 2xx answer passes; any other status, a timeout or a transport
// error fails, and the engine holds the run.
//
// The document (Payload) is a contract:
//
//	{
//	  "type": "pre-step",              // pre-step | post-step | confirm-promotion | rollback
//	  "run": "api-alb-migration",
//	  "hostname": "api.example.com",
//	  "strategy": "weighted",
//	  "state": "running",
//	  "step": {"index": 4, "id": "04-change", "title": "shift 10% to new", "kind": "change"},
//	  "weights": {"old": 90, "new": 10},  // the split live when the call is made
//	  "reason": "...",                   // rollback only: why
//	  "time": "2026-12-04T19:40:00Z",
//	  "delivery": "api-alb-migration/pre-step/04-change/load-test"
//	}
//
// Headers: Content-Type application/json; X-Cutover-Event (the type);
// X-Cutover-Delivery (stable across retries of the same call, for
// deduplication); X-Cutover-Signature-256: "sha256=" + hex HMAC-SHA256 of
// the exact body with the secret, when the webhook names one. Receivers
// verify it with Verify.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/runbook"
)

// Header names.
const (
	HeaderEvent     = "X-Cutover-Event"
	HeaderDelivery  = "X-Cutover-Delivery"
	HeaderSignature = "X-Cutover-Signature-256"
)

// DefaultTimeout bounds a call whose webhook sets none.
const DefaultTimeout = 10 * time.Second

// Step is the step a call is about.
type Step struct {
	// Index counts from 1, as the CLI prints steps.
	Index int    `json:"index"`
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"`
}

// Payload is the JSON document every webhook receives.
type Payload struct {
	Type     string           `json:"type"`
	Run      string           `json:"run"`
	Hostname string           `json:"hostname"`
	Strategy string           `json:"strategy"`
	State    string           `json:"state"`
	Step     *Step            `json:"step,omitempty"`
	Weights  *runbook.Weights `json:"weights,omitempty"`
	Reason   string           `json:"reason,omitempty"`
	Time     time.Time        `json:"time"`
	Delivery string           `json:"delivery"`
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's under secret, in constant
// time.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Client calls webhooks over HTTP.
type Client struct {
	// HTTP is the client used; nil means one with no timeout of its own
	// (each call is bounded by its webhook's timeout).
	HTTP *http.Client
	// Getenv reads secret_env; nil means os.Getenv.
	Getenv func(string) string
}

// ErrNoSecret is returned when a webhook names a secret that is not there:
// an unsigned call would be accepted by nobody who checks.
var ErrNoSecret = errors.New("webhook secret not found")

// Secret reads the webhook's signing secret, at call time, so it is never
// kept anywhere the run is stored. nil when the webhook names none.
func (c *Client) Secret(h runbook.Webhook) ([]byte, error) {
	switch {
	case h.SecretEnv != "":
		getenv := c.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		v := getenv(h.SecretEnv)
		if v == "" {
			return nil, fmt.Errorf("webhook %s: environment variable %s is empty: %w", h.Name, h.SecretEnv, ErrNoSecret)
		}
		return []byte(v), nil
	case h.SecretFile != "":
		b, err := os.ReadFile(h.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: reading secret file: %w", h.Name, errors.Join(ErrNoSecret, err))
		}
		if v := bytes.TrimSpace(b); len(v) > 0 {
			return v, nil
		}
		return nil, fmt.Errorf("webhook %s: secret file %s is empty: %w", h.Name, h.SecretFile, ErrNoSecret)
	}
	return nil, nil
}

// Call POSTs p to the webhook and returns nil on a 2xx answer.
func (c *Client) Call(ctx context.Context, h runbook.Webhook, p Payload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook %s: encoding payload: %w", h.Name, err)
	}
	secret, err := c.Secret(h)
	if err != nil {
		return err
	}
	timeout := h.Timeout.D()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook %s: %w", h.Name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cutover")
	req.Header.Set(HeaderEvent, p.Type)
	req.Header.Set(HeaderDelivery, p.Delivery)
	if secret != nil {
		req.Header.Set(HeaderSignature, Sign(secret, body))
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("webhook %s: no answer within %s", h.Name, timeout)
		}
		return fmt.Errorf("webhook %s: %w", h.Name, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook %s: %s answered %s: %s", h.Name, redact(h.URL), resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// redact keeps a URL's scheme, host and path: a query may carry a token.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
