package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/split"
)

// Formats Render writes.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatJSON     = "json"
)

// Formats lists every format Render writes.
var Formats = []string{FormatHTML, FormatMarkdown, FormatJSON}

// Render writes r in format.
func Render(w io.Writer, r *Report, format string) error {
	switch format {
	case FormatHTML:
		return HTML(w, r)
	case FormatMarkdown:
		return Markdown(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("report format %q: want one of %s", format, strings.Join(Formats, ", "))
}

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ts":    stamp,
	"num":   num,
	"pct":   pctOf,
	"chart": func(p []split.Point) template.HTML { return template.HTML(Chart(p)) },
	"shares": func(m map[string]float64) string {
		return shares(m)
	},
	"mul100": func(v float64) float64 { return 100 * v },
	"inc":    func(i int) int { return i + 1 },
}).Parse(htmlSource))

// HTML writes r as one self-contained HTML page.
func HTML(w io.Writer, r *Report) error {
	if err := htmlTemplate.Execute(w, r); err != nil {
		return fmt.Errorf("rendering the report of run %s: %w", r.Run.Name, err)
	}
	return nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func pctOf(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p, 'f', 1, 64) + " %"
}

func shares(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f %%", k, 100*m[k]))
	}
	return strings.Join(parts, ", ")
}

// Markdown writes r as a Markdown document. The split chart becomes a
// table of its points.
func Markdown(w io.Writer, r *Report) error {
	var b strings.Builder
	s := r.Run
	fmt.Fprintf(&b, "# Cutover report: %s\n\n", md(s.Name))
	row := func(k, v string) {
		if v != "" {
			mdRow(&b, k, md(v))
		}
	}
	b.WriteString("| | |\n| --- | --- |\n")
	row("hostname", s.Hostname)
	row("zone", s.Zone)
	row("strategy", s.Strategy)
	row("state", string(s.State))
	row("reason", s.Reason)
	row("from", s.From)
	row("to", s.To)
	row("plan", s.PlanPath)
	row("plan sha256", s.PlanDigest)
	row("created", stamp(s.Created))
	row("last update", stamp(s.Updated))
	row("steps / events", fmt.Sprintf("%d / %d", s.Steps, s.Events))

	b.WriteString("\n## Split: intended against observed share of the new edge\n\n")
	if r.SplitNote != "" {
		fmt.Fprintf(&b, "%s\n\n", md(r.SplitNote))
	}
	if len(r.Split) == 0 {
		b.WriteString("No data.\n")
	} else {
		mdHeader(&b, "time", "intended", "observed")
		for _, p := range r.Split {
			mdRow(&b, stamp(p.At), strconv.FormatFloat(p.IntendedNew, 'f', 1, 64)+" %", pctOf(p.ObservedNew))
		}
	}

	fmt.Fprintf(&b, "\n## Changes (%d)\n\n", len(r.Changes))
	if len(r.Changes) == 0 {
		b.WriteString("No change was made.\n")
	} else {
		mdHeader(&b, "#", "time", "step", "provider", "operation", "resource", "change id", "before", "after")
		for i, c := range r.Changes {
			step := c.Step
			if c.Rollback {
				step += " (rollback)"
			}
			id := c.ChangeID
			if id == "" && c.Reconciled {
				id = "(lost in an interruption; found applied)"
			}
			mdRow(&b, strconv.Itoa(i+1), stamp(c.At), md(step), c.Provider, c.Operation, md(c.Resource), md(id), lines(c.Before), lines(c.After))
		}
	}

	if len(r.Staging) > 0 {
		fmt.Fprintf(&b, "\n## Continuous deployment operations (%d)\n\n", len(r.Staging))
		mdHeader(&b, "time", "step", "operation", "detail")
		for _, o := range r.Staging {
			mdRow(&b, stamp(o.At), md(o.Step), string(o.Type), md(o.Message))
		}
	}

	fmt.Fprintf(&b, "\n## Gate values (%d)\n\n", len(r.Gates))
	if len(r.Gates) == 0 {
		b.WriteString("No gate was measured.\n")
	} else {
		mdHeader(&b, "time", "gate", "kind", "phase", "value", "detail")
		for _, g := range r.Gates {
			mdRow(&b, stamp(g.At), md(g.Gate), g.Kind, string(g.Phase), num(g.Value), md(g.Detail))
		}
	}

	fmt.Fprintf(&b, "\n## Verifications (%d)\n\n", len(r.Verify))
	if len(r.Verify) == 0 {
		b.WriteString("No verification ran.\n")
	}
	for _, v := range r.Verify {
		verdict := "failed"
		if v.OK {
			verdict = "passed"
		}
		fmt.Fprintf(&b, "### %s step %s: %s\n\n%s\n\n", stamp(v.At), md(v.Step), verdict, md(v.Detail))
		if len(v.Shares) > 0 {
			fmt.Fprintf(&b, "Shares: %s\n\n", shares(v.Shares))
		}
		if len(v.Cells) > 0 {
			mdHeader(&b, "resolver", "edge", "share", "side", "status", "error")
			for _, c := range v.Cells {
				status := ""
				if c.Status != 0 {
					status = strconv.Itoa(c.Status)
				}
				mdRow(&b, md(c.Resolver), md(c.Edge), fmt.Sprintf("%.0f %%", 100*c.Share), md(c.Side), status, md(c.Error))
			}
		}
	}

	fmt.Fprintf(&b, "\n## Operator actions (%d)\n\n", len(r.Operators))
	if len(r.Operators) == 0 {
		b.WriteString("No operator action.\n")
	} else {
		mdHeader(&b, "time", "action", "by", "outcome")
		for _, a := range r.Operators {
			out := a.Outcome
			if out == "" {
				out = "pending"
			} else if !a.OutcomeAt.IsZero() {
				out = stamp(a.OutcomeAt) + ": " + out
			}
			mdRow(&b, stamp(a.At), a.Action, md(a.By), md(out))
		}
	}

	fmt.Fprintf(&b, "\n## Timeline (%d events)\n\n", len(r.Timeline))
	mdHeader(&b, "#", "time", "step", "event", "message")
	for _, e := range r.Timeline {
		step := ""
		if e.Step > 0 {
			step = strconv.Itoa(e.Step)
		}
		if e.Rollback {
			step = "rollback " + step
		}
		if e.StepTitle != "" {
			step += " " + e.StepTitle
		}
		mdRow(&b, strconv.FormatInt(e.Seq, 10), stamp(e.At), md(step), string(e.Type), md(e.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdHeader writes a Markdown table's header row of cols and its rule.
func mdHeader(b *strings.Builder, cols ...string) {
	mdRow(b, cols...)
	b.WriteString("|" + strings.Repeat(" --- |", len(cols)) + "\n")
}

// mdRow writes one row of a Markdown table, the cells as they are (md
// escapes text).
func mdRow(b *strings.Builder, cells ...string) {
	b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
}

// md escapes what would break a Markdown table cell or be read as
// markup; a newline becomes <br>.
func md(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	for _, c := range []string{"|", "*", "_", "`", "<", ">", "[", "]"} {
		s = strings.ReplaceAll(s, c, `\`+c)
	}
	return strings.ReplaceAll(s, "\n", "<br>")
}

func lines(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	parts := make([]string, len(l))
	for i, x := range l {
		parts[i] = md(x)
	}
	return strings.Join(parts, "<br>")
}
