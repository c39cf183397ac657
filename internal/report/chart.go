package report

import (
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/split"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH          = 760, 260
	padL, padR, padT, padB  = 44, 32, 12, 36
	plotW, plotH            = chartW - padL - padR, chartH - padT - padB
	colorIntended, colorObs = "#1f6feb", "#d9480f"
)

// Chart renders the split as one inline SVG: the intended share of the
// new edge as a step line, the observed share as dots joined by a line.
func Chart(points []split.Point) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="intended and observed share of the new edge">`, chartW, chartH, chartW, chartH)
	b.WriteString("\n")
	for _, pct := range []int{0, 25, 50, 75, 100} {
		y := yOf(float64(pct))
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#555">%d%%</text>`+"\n", padL, y, padL+plotW, y, padL-6, y+4, pct)
	}
	if len(points) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" text-anchor="middle" fill="#555">no data</text></svg>`, padL+plotW/2, padT+plotH/2)
		return b.String()
	}
	t0, t1 := points[0].At, points[len(points)-1].At
	if !t1.After(t0) {
		t1 = t0.Add(time.Minute)
	}
	x := func(t time.Time) float64 { return padL + float64(plotW)*float64(t.Sub(t0))/float64(t1.Sub(t0)) }
	for i := 0; i <= 5; i++ {
		t := t0.Add(time.Duration(int64(t1.Sub(t0)) * int64(i) / 5))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#555">%s</text>`+"\n", x(t), chartH-padB+16, t.UTC().Format("15:04:05"))
	}
	// Intended: hold each value until the next point, then step.
	var d strings.Builder
	for i, p := range points {
		if i == 0 {
			fmt.Fprintf(&d, "M%.1f %.1f", x(p.At), yOf(p.IntendedNew))
			continue
		}
		fmt.Fprintf(&d, " H%.1f V%.1f", x(p.At), yOf(p.IntendedNew))
	}
	fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", d.String(), colorIntended)
	var obs []string
	for _, p := range points {
		if p.ObservedNew != nil {
			obs = append(obs, fmt.Sprintf("%.1f,%.1f", x(p.At), yOf(*p.ObservedNew)))
		}
	}
	if len(obs) > 0 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", strings.Join(obs, " "), colorObs)
		for _, o := range obs {
			xy := strings.SplitN(o, ",", 2)
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"/>`, xy[0], xy[1], colorObs)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s">— intended (new edge)</text><text x="%d" y="%d" font-size="11" fill="%s">- - observed (new edge)</text>`,
		padL+8, chartH-6, colorIntended, padL+180, chartH-6, colorObs)
	if len(obs) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="#555">%s</text>`, padL+360, chartH-6, html.EscapeString("no observed split: the edges reported no requests"))
	}
	b.WriteString("</svg>")
	return b.String()
}

func yOf(pct float64) float64 { return padT + float64(plotH)*(1-pct/100) }
