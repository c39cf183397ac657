package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/store"
)

// Client calls a server's v1 API: what `cutover apply --server` and the
// other client commands use.
type Client struct {
	// URL is the server's base URL (http://127.0.0.1:8080).
	URL string
	// Token is the bearer token; only mutating calls send it.
	Token string
	// HTTP defaults to a client with a 30s timeout.
	HTTP *http.Client
}

// APIError is a response other than the one a call expects.
type APIError struct {
	Status      int
	Message     string
	Diagnostics []string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("server answered %d: %s", e.Status, e.Message)
	if len(e.Diagnostics) > 0 {
		msg += "\n" + strings.Join(e.Diagnostics, "\n")
	}
	return msg
}

// Submitted is the answer to a submitted plan.
type Submitted struct {
	Name     string `json:"name"`
	Existing bool   `json:"existing,omitempty"`
	// Plan is the rendered runbook of a dry run.
	Plan string `json:"plan,omitempty"`
}

// Submit sends a plan read from file (the name diagnostics use). A dry run
// compiles it and returns the rendered runbook without creating the run.
func (c *Client) Submit(ctx context.Context, file string, plan []byte, dryRun, force bool) (Submitted, error) {
	q := url.Values{"file": {file}}
	if dryRun {
		q.Set("dry_run", "1")
	}
	if force {
		q.Set("force", "1")
	}
	var out Submitted
	err := c.do(ctx, http.MethodPost, "/api/v1/runs?"+q.Encode(), plan, &out, http.StatusCreated, http.StatusOK)
	return out, err
}

// Runs lists the server's runs.
func (c *Client) Runs(ctx context.Context) ([]RunSummary, error) {
	var out struct {
		Runs []RunSummary `json:"runs"`
	}
	err := c.do(ctx, http.MethodGet, "/api/v1/runs", nil, &out, http.StatusOK)
	return out.Runs, err
}

// Run returns one run with its runbook, events and deadlines.
func (c *Client) Run(ctx context.Context, name string) (RunDetail, error) {
	var out RunDetail
	err := c.do(ctx, http.MethodGet, "/api/v1/runs/"+url.PathEscape(name), nil, &out, http.StatusOK)
	return out, err
}

// Request asks for an operator action (pause, resume, rollback, promote).
func (c *Client) Request(ctx context.Context, name, action string) error {
	return c.do(ctx, http.MethodPost, "/api/v1/runs/"+url.PathEscape(name)+"/"+url.PathEscape(action), nil, nil, http.StatusAccepted)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any, want ...int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("calling %s: %w", c.URL, err)
	}
	if method != http.MethodGet && c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if method != http.MethodGet {
		req.Header.Set(ActorHeader, store.LocalActor())
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/yaml")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.URL, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("decoding the answer of %s %s: %w", method, path, err)
			}
			return nil
		}
	}
	ae := &APIError{Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	var eb struct {
		Error       string   `json:"error"`
		Diagnostics []string `json:"diagnostics"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
		ae.Message, ae.Diagnostics = eb.Error, eb.Diagnostics
	}
	return ae
}
