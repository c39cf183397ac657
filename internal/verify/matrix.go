package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Matrix is one verification: where each resolver sent clients and which
// side answered at each address.
type Matrix struct {
	Hostname string `json:"hostname"`
	Path     string `json:"path"`
	Expect   string `json:"expect"`
	Samples  int    `json:"samples"`
	// Resolvers in the order they were configured.
	Resolvers []ResolverResult `json:"resolvers"`
	// Edges are the distinct addresses the answers led to, sorted.
	Edges []EdgeResult `json:"edges"`
	// Cells pair each resolver with each edge it sent clients to.
	Cells []Cell `json:"cells"`
	// Shares estimate the part of the traffic each side receives: each
	// resolver's answer shares times each edge's side counts, averaged over
	// the resolvers that answered.
	Shares map[string]float64 `json:"shares"`
	// OK is true when every path reached the expected side and every
	// resolver answered.
	OK bool `json:"ok"`
	// Summary is the one-line verdict.
	Summary  string   `json:"summary"`
	Problems []string `json:"problems,omitempty"`
	// Diagnosis, when one was asked for, explains from the CDN's
	// configuration why paths reach the side they do.
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
}

// ResolverResult is what one resolver answered over its samples.
type ResolverResult struct {
	Name string `json:"name"`
	// Chains are the distinct CNAME chains seen, each from the hostname
	// (weighted records lead to several), in the order first seen.
	Chains [][]string `json:"chains,omitempty"`
	// Answers weighs each address by the samples that led to it (an answer
	// of n addresses adds 1/n to each).
	Answers  map[string]float64 `json:"answers"`
	Queries  int                `json:"queries"`
	Failures int                `json:"failures,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// EdgeResult is what one address answered over its samples.
type EdgeResult struct {
	Addr string `json:"addr"`
	// Side is the side every answer agreed on, or mixed.
	Side string `json:"side"`
	// Sides counts the answers per side.
	Sides    map[string]int `json:"sides"`
	Requests int            `json:"requests"`
	// Status is the last HTTP status received (0 when none).
	Status int `json:"status,omitempty"`
	// LatencyMS is the median latency of the answers received.
	LatencyMS float64 `json:"latency_ms"`
	// TLS is the TLS outcome (the version, or "failed"); empty over HTTP.
	TLS   string `json:"tls,omitempty"`
	Error string `json:"error,omitempty"`
}

// Cell is one path: a resolver and an address it sent clients to.
type Cell struct {
	Resolver string `json:"resolver"`
	Edge     string `json:"edge"`
	// Share is the part of this resolver's answers that led here.
	Share     float64 `json:"share"`
	Side      string  `json:"side"`
	Status    int     `json:"status,omitempty"`
	TLS       string  `json:"tls,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

func edgeResult(addr string, rs []fetchResult) EdgeResult {
	e := EdgeResult{Addr: addr, Sides: map[string]int{}, Requests: len(rs)}
	var lat []time.Duration
	for _, r := range rs {
		e.Sides[r.side]++
		if r.status != 0 {
			e.Status = r.status
			lat = append(lat, r.latency)
		}
		if r.err != "" && e.Error == "" {
			e.Error = r.err
		}
		// A failure is the outcome worth showing, even among successes.
		if r.tls != "" && e.TLS != TLSFailed {
			e.TLS = r.tls
		}
	}
	e.Side = SideMixed
	if len(e.Sides) == 1 {
		for s := range e.Sides {
			e.Side = s
		}
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		e.LatencyMS = float64(lat[len(lat)/2].Microseconds()) / 1000
	}
	return e
}

func (m *Matrix) problem(p string) { m.Problems = append(m.Problems, p) }

// build fills the cells and shares from the resolvers and edges.
func (m *Matrix) build() {
	edges := map[string]EdgeResult{}
	for _, e := range m.Edges {
		edges[e.Addr] = e
	}
	m.Shares = map[string]float64{}
	answered := 0
	for _, r := range m.Resolvers {
		if r.Error != "" {
			m.problem(fmt.Sprintf("resolver %s: %d/%d queries failed: %s", r.Name, r.Failures, r.Failures+r.Queries, r.Error))
		}
		if r.Queries == 0 {
			continue
		}
		answered++
		addrs := make([]string, 0, len(r.Answers))
		for a := range r.Answers {
			addrs = append(addrs, a)
		}
		sortAddrs(addrs)
		for _, a := range addrs {
			e := edges[a]
			share := r.Answers[a] / float64(r.Queries)
			m.Cells = append(m.Cells, Cell{Resolver: r.Name, Edge: a, Share: share, Side: e.Side, Status: e.Status, TLS: e.TLS, LatencyMS: e.LatencyMS, Error: e.Error})
			for side, n := range e.Sides {
				m.Shares[side] += share * float64(n) / float64(e.Requests)
			}
		}
	}
	for side, v := range m.Shares {
		m.Shares[side] = v / float64(answered)
	}
	for _, e := range m.Edges {
		if e.Sides[m.Expect] != e.Requests {
			m.problem(fmt.Sprintf("%s answered %s", e.Addr, describeSides(e)))
		}
	}
}

func describeSides(e EdgeResult) string {
	keys := make([]string, 0, len(e.Sides))
	for s := range e.Sides {
		keys = append(keys, s)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, s := range keys {
		parts[i] = fmt.Sprintf("%s %d/%d", s, e.Sides[s], e.Requests)
	}
	out := strings.Join(parts, ", ")
	if e.Error != "" {
		out += " (" + e.Error + ")"
	}
	return out
}

// finish decides OK and writes the summary line.
func (m *Matrix) finish() {
	good := 0
	for _, c := range m.Cells {
		if c.Side == m.Expect {
			good++
		}
	}
	m.OK = len(m.Problems) == 0 && len(m.Cells) > 0 && good == len(m.Cells)
	if len(m.Cells) == 0 && len(m.Problems) == 0 {
		m.problem("no path reached any edge")
	}
	s := fmt.Sprintf("%d/%d paths %s via %s × %s", good, len(m.Cells), orDash(m.Expect), plural(len(m.Resolvers), "resolver"), plural(len(m.Edges), "edge"))
	if len(m.Shares) > 0 {
		s += " (" + m.sharesText() + ")"
	}
	if len(m.Problems) > 0 {
		shown := m.Problems
		more := ""
		if len(shown) > 3 {
			more = fmt.Sprintf("; and %d more", len(shown)-3)
			shown = shown[:3]
		}
		s += ": " + strings.Join(shown, "; ") + more
	}
	m.Summary = s
}

func (m *Matrix) sharesText() string {
	keys := make([]string, 0, len(m.Shares))
	for k := range m.Shares {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m.Shares[keys[i]] != m.Shares[keys[j]] {
			return m.Shares[keys[i]] > m.Shares[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + percent(m.Shares[k])
	}
	return strings.Join(parts, ", ")
}

func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteText renders the matrix for a terminal: the verdict, one row per
// path, then the resolvers' CNAME chains and errors.
func (m *Matrix) WriteText(w io.Writer) error {
	verdict := "FAIL"
	if m.OK {
		verdict = "OK"
	}
	if _, err := fmt.Fprintf(w, "%s %s%s expect %s: %s\n", verdict, m.Hostname, m.Path, orDash(m.Expect), m.Summary); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOLVER\tEDGE\tDNS SHARE\tSIDE\tSTATUS\tTLS\tLATENCY\tERROR")
	for _, c := range m.Cells {
		status := "-"
		if c.Status != 0 {
			status = strconv.Itoa(c.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%sms\t%s\n", c.Resolver, c.Edge, percent(c.Share), c.Side, status, strings.ReplaceAll(orDash(c.TLS), " ", ""), strconv.FormatFloat(c.LatencyMS, 'f', 1, 64), orDash(c.Error))
	}
	for _, r := range m.Resolvers {
		if r.Queries == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\terror\t-\t-\t-\t%s\n", r.Name, r.Error)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range m.Resolvers {
		for _, c := range r.Chains {
			if len(c) > 1 {
				if _, err := fmt.Fprintf(w, "%s: %s\n", r.Name, strings.Join(c, " → ")); err != nil {
					return err
				}
			}
		}
	}
	if m.Diagnosis != nil {
		return m.Diagnosis.WriteText(w)
	}
	return nil
}

// JSON renders the matrix as indented JSON.
func (m *Matrix) JSON() ([]byte, error) { return json.MarshalIndent(m, "", "  ") }
