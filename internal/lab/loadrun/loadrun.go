package loadrun

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/load"
)

// Config is the load to keep going and where its table goes.
type Config struct {
	// Host is the hostname resolved and requested (Host and SNI).
	Host string
	// DNSServer is the address of the lab's DNS server.
	DNSServer string
	// Rate is requests per second, in total; Clients the virtual clients
	// sharing it (default: one per 5 req/s, 1..50).
	Rate    float64
	Clients int
	// HTTPS sends the load over HTTPS, verified against CAPEM, to Port.
	HTTPS bool
	Port  int
	CAPEM []byte
	// Every is how often the table is printed.
	Every time.Duration
	// Origins are the columns the table starts with; an origin that serves
	// adds its own.
	Origins []string
	// Out receives the table; writes come from the runner's goroutine.
	Out io.Writer
}

// Runner keeps client load going for as long as the lab runs and prints
// each completed second once.
type Runner struct {
	stopc chan struct{}
	done  chan struct{}
}

// loadSpan bounds one load run (the load package caps runs at an hour);
// the runner starts the next one where it ended.
const loadSpan = time.Hour

// Start waits (up to 10 s) for the host to resolve, then starts the load
// and its table. It returns nil, nil when ctx ends before the load began;
// an error is a load the configuration does not allow.
func Start(ctx context.Context, c Config) (*Runner, error) {
	cfg := load.Config{
		Host:      c.Host,
		DNSServer: c.DNSServer,
		Rate:      c.Rate,
		Clients:   c.Clients,
		Duration:  loadSpan,
		HTTPS:     c.HTTPS,
		Port:      c.Port,
		CAPEM:     c.CAPEM,
	}
	if cfg.Clients == 0 {
		cfg.Clients = min(50, max(1, int(math.Ceil(c.Rate/5))))
	}
	out := c.Out
	// A seeded zone answers once its creation is INSYNC; requests sent
	// before would only measure that.
	if !awaitName(ctx, c.DNSServer, c.Host, 10*time.Second) {
		if ctx.Err() != nil {
			return nil, nil // stopped before the load began
		}
		fmt.Fprintf(out, "# load: %s does not resolve through the lab DNS yet; starting anyway\n", c.Host)
	}
	// Requests run on a context the signal does not cancel: stopping the
	// lab ends the issuing of requests and waits for those in flight, so
	// the last ones are not misreported as failures.
	reqCtx := context.WithoutCancel(ctx)
	live, err := load.Start(reqCtx, cfg)
	if err != nil {
		return nil, err
	}
	lr := &Runner{stopc: make(chan struct{}), done: make(chan struct{})}
	t := &table{out: out, host: c.Host, known: c.Origins}
	go func() {
		defer close(lr.done)
		tick := time.NewTicker(c.Every)
		defer tick.Stop()
		for {
			select {
			case <-lr.stopc:
				rep := live.Stop()
				t.print(rep, true)
				t.summary(rep)
				return
			case <-live.Done():
				t.print(live.Snapshot(), true)
				t.offset += int(loadSpan / time.Second)
				t.printed = -1
				next, err := load.Start(reqCtx, cfg)
				if err != nil {
					fmt.Fprintf(out, "# load stopped: %v\n", err)
					return
				}
				live = next
			case <-tick.C:
				t.print(live.Snapshot(), false)
			}
		}
	}()
	return lr, nil
}

// awaitName waits until the lab DNS answers name with records, up to
// limit.
func awaitName(ctx context.Context, server, name string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	c := &dns.Client{Timeout: time.Second}
	for {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeA)
		if in, _, err := c.ExchangeContext(ctx, m, server); err == nil && in.Rcode == dns.RcodeSuccess && len(in.Answer) > 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop ends the load, waits for the requests in flight and prints the
// last seconds and a summary.
func (lr *Runner) Stop() {
	close(lr.stopc)
	<-lr.done
}

// table renders a load report's per-second series: one row per
// second, a column per origin that served, and failures.
type table struct {
	out     io.Writer
	host    string
	known   []string
	offset  int
	printed int    // last second printed within the current run
	header  string // the columns of the last header printed
	started bool
}

func (t *table) columns(rep *load.Report) []string {
	set := map[string]bool{}
	for _, k := range t.known {
		set[k] = true
	}
	for _, o := range rep.Origins() {
		set[o] = true
	}
	var cols []string
	for o := range set {
		cols = append(cols, o)
	}
	sort.Strings(cols)
	return cols
}

// print writes the seconds not printed yet; the current second is still
// filling up, so it waits for the next call unless final. The header is
// repeated only when a new origin adds a column.
func (t *table) print(rep *load.Report, final bool) {
	if !t.started {
		t.printed, t.started = -1, true
	}
	cols := t.columns(rep)
	var b strings.Builder
	for _, s := range rep.Series {
		if s.Second <= t.printed {
			continue
		}
		if !final && time.Duration(s.Second+1)*time.Second > rep.Elapsed {
			break
		}
		if header := strings.Join(cols, " "); header != t.header {
			t.header = header
			fmt.Fprintf(&b, "# load %s: requests per second, by origin that served, and failed\n%8s %7s", t.host, "second", "total")
			for _, c := range cols {
				fmt.Fprintf(&b, " %*s", colWidth(c), c)
			}
			fmt.Fprintf(&b, " %7s\n", "failed")
		}
		fmt.Fprintf(&b, "%8d %7d", t.offset+s.Second, s.Total)
		for _, c := range cols {
			fmt.Fprintf(&b, " %*d", colWidth(c), s.ByOrigin[c])
		}
		fmt.Fprintf(&b, " %7d\n", s.Failures)
		t.printed = s.Second
	}
	if b.Len() > 0 {
		_, _ = io.WriteString(t.out, b.String())
	}
}

func colWidth(name string) int { return max(7, len(name)) }

func (t *table) summary(rep *load.Report) {
	s := rep.Summary
	var parts []string
	for _, o := range sortedKeys(s.ByOrigin) {
		parts = append(parts, fmt.Sprintf("ok-%s %d", o, s.ByOrigin[o]))
	}
	var failed int64
	for c, n := range s.ByClass {
		if c.Failed() {
			failed += n
		}
	}
	fmt.Fprintf(t.out, "# load %s: %d requests, %s, %d failed, p50 %s, p99 %s\n", t.host, s.Total, strings.Join(parts, ", "), failed, s.P50.Round(time.Microsecond), s.P99.Round(time.Microsecond))
	for _, e := range sortedKeys(s.Errors) {
		fmt.Fprintf(t.out, "#   %s: %d\n", e, s.Errors[e])
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
