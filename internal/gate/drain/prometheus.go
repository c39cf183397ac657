package drain

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prometheus is a minimal client of the Prometheus HTTP API: instant
// queries only.
type Prometheus struct {
	base *url.URL
	hc   *http.Client
}

// NewPrometheus returns a client for the server at baseURL (for example
// http://prometheus:9090, or a path prefix behind a proxy).
func NewPrometheus(baseURL string, hc *http.Client) (*Prometheus, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus url %q: want http(s)://host[:port][/prefix]", baseURL)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Prometheus{base: u, hc: hc}, nil
}

// Result is one instant query's answer reduced to a number.
type Result struct {
	// Type is the result type: scalar or vector.
	Type string
	// Value is the scalar, or the sum of the vector's samples (0 for an
	// empty vector).
	Value float64
	// Series is how many series the vector had.
	Series int
}

// apiResponse is the envelope of every API answer.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query runs an instant query evaluated at at.
func (p *Prometheus) Query(ctx context.Context, query string, at time.Time) (Result, error) {
	u := *p.base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v1/query"
	q := url.Values{"query": {query}}
	if !at.IsZero() {
		q.Set("time", strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64))
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("querying %s: %w", p.base.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return Result{}, fmt.Errorf("reading the answer: %w", err)
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return Result{}, fmt.Errorf("status %d, not a Prometheus API answer: %s", resp.StatusCode, snippet(body))
	}
	if r.Status != "success" {
		return Result{}, fmt.Errorf("status %d: %s: %s", resp.StatusCode, orString(r.ErrorType, "error"), r.Error)
	}
	return decodeResult(r.Data.ResultType, r.Data.Result)
}

func decodeResult(typ string, raw json.RawMessage) (Result, error) {
	res := Result{Type: typ}
	switch typ {
	case "scalar":
		v, err := sampleValue(raw)
		if err != nil {
			return res, fmt.Errorf("scalar: %w", err)
		}
		res.Value = v
	case "vector":
		var series []struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &series); err != nil {
			return res, fmt.Errorf("vector: %w", err)
		}
		for i, s := range series {
			v, err := sampleValue(s.Value)
			if err != nil {
				return res, fmt.Errorf("vector sample %d: %w", i, err)
			}
			res.Value += v
		}
		res.Series = len(series)
	default:
		// A range vector or a string cannot be compared to a threshold.
		return res, fmt.Errorf("result type %q: want scalar or vector", typ)
	}
	return res, nil
}

// sampleValue decodes [<unix time>, "<value>"]; Prometheus writes values
// as strings so that NaN and ±Inf survive JSON.
func sampleValue(raw json.RawMessage) (float64, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return 0, fmt.Errorf("sample %s: want [time, \"value\"]", snippet(raw))
	}
	var s string
	if err := json.Unmarshal(pair[1], &s); err != nil {
		return 0, fmt.Errorf("sample value %s: want a string", snippet(pair[1]))
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("sample value %q: %w", s, err)
	}
	return v, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

func orString(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
