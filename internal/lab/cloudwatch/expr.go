package cloudwatch

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// The metric math subset: arithmetic (+ - * /, unary minus, parentheses)
// between query ids, series and numbers; FILL(x, n); METRICS() and
// METRICS("text"); SUM, AVG, MIN, MAX over an array (per timestamp) or over
// one series (to a scalar); ABS.

type exprNode interface{}

type (
	numExpr float64
	strExpr string
	refExpr string
	negExpr struct{ x exprNode }
	binExpr struct {
		op   byte
		l, r exprNode
	}
	callExpr struct {
		fn   string
		args []exprNode
	}
)

type exprParser struct {
	src string
	pos int
}

// maxExprDepth bounds recursion so a hostile expression cannot exhaust the
// stack.
const maxExprDepth = 64

func parseExpr(src string) (exprNode, error) {
	p := &exprParser{src: src}
	n, err := p.sum(0)
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.src[p.pos:], p.pos)
	}
	return n, nil
}

func (p *exprParser) skip() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
}

func (p *exprParser) peek() byte {
	p.skip()
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *exprParser) sum(depth int) (exprNode, error) {
	l, err := p.product(depth)
	if err != nil {
		return nil, err
	}
	for {
		c := p.peek()
		if c != '+' && c != '-' {
			return l, nil
		}
		p.pos++
		r, err := p.product(depth)
		if err != nil {
			return nil, err
		}
		l = binExpr{op: c, l: l, r: r}
	}
}

func (p *exprParser) product(depth int) (exprNode, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for {
		c := p.peek()
		if c != '*' && c != '/' {
			return l, nil
		}
		p.pos++
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = binExpr{op: c, l: l, r: r}
	}
}

func (p *exprParser) unary(depth int) (exprNode, error) {
	if depth > maxExprDepth {
		return nil, fmt.Errorf("expression nested too deeply")
	}
	if p.peek() == '-' {
		p.pos++
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return negExpr{x}, nil
	}
	return p.primary(depth + 1)
}

func (p *exprParser) primary(depth int) (exprNode, error) {
	c := p.peek()
	switch {
	case c == 0:
		return nil, fmt.Errorf("unexpected end of expression")
	case c == '(':
		p.pos++
		n, err := p.sum(depth)
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.pos)
		}
		p.pos++
		return n, nil
	case c == '"':
		end := strings.IndexByte(p.src[p.pos+1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("unterminated string at position %d", p.pos)
		}
		s := p.src[p.pos+1 : p.pos+1+end]
		p.pos += end + 2
		return strExpr(s), nil
	case c == '.' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.src) && (isDigit(p.src[p.pos]) || p.src[p.pos] == '.' ||
			((p.src[p.pos] == 'e' || p.src[p.pos] == 'E') && p.pos+1 < len(p.src)) ||
			((p.src[p.pos] == '+' || p.src[p.pos] == '-') && p.pos > start && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E'))) {
			p.pos++
		}
		v, err := strconv.ParseFloat(p.src[start:p.pos], 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", p.src[start:p.pos])
		}
		return numExpr(v), nil
	case c == '_' || unicode.IsLetter(rune(c)):
		start := p.pos
		for p.pos < len(p.src) && (p.src[p.pos] == '_' || isDigit(p.src[p.pos]) || unicode.IsLetter(rune(p.src[p.pos]))) {
			p.pos++
		}
		name := p.src[start:p.pos]
		if p.peek() != '(' {
			return refExpr(name), nil
		}
		p.pos++
		call := callExpr{fn: strings.ToUpper(name)}
		if p.peek() == ')' {
			p.pos++
			return call, nil
		}
		for {
			a, err := p.sum(depth)
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, a)
			switch p.peek() {
			case ',':
				p.pos++
			case ')':
				p.pos++
				return call, nil
			default:
				return nil, fmt.Errorf("expected , or ) at position %d", p.pos)
			}
		}
	}
	return nil, fmt.Errorf("unexpected %q at position %d", c, p.pos)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// refs lists the query ids an expression reads.
func refs(n exprNode, out map[string]bool) {
	switch x := n.(type) {
	case refExpr:
		out[string(x)] = true
	case negExpr:
		refs(x.x, out)
	case binExpr:
		refs(x.l, out)
		refs(x.r, out)
	case callExpr:
		for _, a := range x.args {
			refs(a, out)
		}
	}
}

// usesMetrics reports whether n calls METRICS(), which depends on every
// MetricStat query of the request.
func usesMetrics(n exprNode) bool {
	switch x := n.(type) {
	case negExpr:
		return usesMetrics(x.x)
	case binExpr:
		return usesMetrics(x.l) || usesMetrics(x.r)
	case callExpr:
		if x.fn == "METRICS" {
			return true
		}
		for _, a := range x.args {
			if usesMetrics(a) {
				return true
			}
		}
	}
	return false
}

// ts is one time series: ascending bucket starts (unix ms) and values.
type ts struct {
	label string
	t     []int64
	v     []float64
}

// exprValue is what an expression evaluates to: a scalar, one series, or
// an array of series.
type exprValue struct {
	kind   int // scalarKind, seriesKind, arrayKind
	scalar float64
	series []ts
}

const (
	scalarKind = iota
	seriesKind
	arrayKind
)

type exprEnv struct {
	results map[string]exprValue
	metrics []ts    // every MetricStat query, in request order, for METRICS()
	grid    []int64 // bucket starts of the query window, for FILL and scalars
}

func (e *exprEnv) eval(n exprNode) (exprValue, error) {
	switch x := n.(type) {
	case numExpr:
		return exprValue{kind: scalarKind, scalar: float64(x)}, nil
	case strExpr:
		return exprValue{}, fmt.Errorf("a string can only be an argument of METRICS")
	case refExpr:
		v, ok := e.results[string(x)]
		if !ok {
			return exprValue{}, fmt.Errorf("unknown metric or expression id %s", string(x))
		}
		return v, nil
	case negExpr:
		v, err := e.eval(x.x)
		if err != nil {
			return exprValue{}, err
		}
		return mapValue(v, func(f float64) float64 { return -f }), nil
	case binExpr:
		l, err := e.eval(x.l)
		if err != nil {
			return exprValue{}, err
		}
		r, err := e.eval(x.r)
		if err != nil {
			return exprValue{}, err
		}
		return binary(x.op, l, r)
	case callExpr:
		return e.call(x)
	}
	return exprValue{}, fmt.Errorf("unsupported expression")
}

func mapValue(v exprValue, f func(float64) float64) exprValue {
	if v.kind == scalarKind {
		return exprValue{kind: scalarKind, scalar: f(v.scalar)}
	}
	out := exprValue{kind: v.kind}
	for _, s := range v.series {
		n := ts{label: s.label}
		for i, t := range s.t {
			if r := f(s.v[i]); !math.IsNaN(r) && !math.IsInf(r, 0) {
				n.t = append(n.t, t)
				n.v = append(n.v, r)
			}
		}
		out.series = append(out.series, n)
	}
	return out
}

func apply(op byte, a, b float64) float64 {
	switch op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	}
	return a / b
}

// combine joins two series on the timestamps both have, as metric math
// does; a division by zero leaves the point out.
func combine(op byte, a, b ts) ts {
	out := ts{label: a.label}
	i, j := 0, 0
	for i < len(a.t) && j < len(b.t) {
		switch {
		case a.t[i] < b.t[j]:
			i++
		case a.t[i] > b.t[j]:
			j++
		default:
			if r := apply(op, a.v[i], b.v[j]); !math.IsNaN(r) && !math.IsInf(r, 0) {
				out.t = append(out.t, a.t[i])
				out.v = append(out.v, r)
			}
			i++
			j++
		}
	}
	return out
}

func binary(op byte, l, r exprValue) (exprValue, error) {
	switch {
	case l.kind == scalarKind && r.kind == scalarKind:
		return exprValue{kind: scalarKind, scalar: apply(op, l.scalar, r.scalar)}, nil
	case r.kind == scalarKind:
		return mapValue(l, func(f float64) float64 { return apply(op, f, r.scalar) }), nil
	case l.kind == scalarKind:
		return mapValue(r, func(f float64) float64 { return apply(op, l.scalar, f) }), nil
	case l.kind == arrayKind && r.kind == arrayKind:
		return exprValue{}, fmt.Errorf("cannot combine two arrays of time series")
	case l.kind == arrayKind:
		out := exprValue{kind: arrayKind}
		for _, s := range l.series {
			out.series = append(out.series, combine(op, s, r.series[0]))
		}
		return out, nil
	case r.kind == arrayKind:
		out := exprValue{kind: arrayKind}
		for _, s := range r.series {
			c := combine(op, l.series[0], s)
			c.label = s.label
			out.series = append(out.series, c)
		}
		return out, nil
	}
	return exprValue{kind: seriesKind, series: []ts{combine(op, l.series[0], r.series[0])}}, nil
}

func (e *exprEnv) call(c callExpr) (exprValue, error) {
	switch c.fn {
	case "METRICS":
		if len(c.args) > 1 {
			return exprValue{}, fmt.Errorf("METRICS takes at most one argument")
		}
		filter := ""
		if len(c.args) == 1 {
			s, ok := c.args[0].(strExpr)
			if !ok {
				return exprValue{}, fmt.Errorf("the argument of METRICS must be a string")
			}
			filter = string(s)
		}
		out := exprValue{kind: arrayKind}
		for _, m := range e.metrics {
			if strings.Contains(m.label, filter) {
				out.series = append(out.series, m)
			}
		}
		return out, nil
	case "FILL":
		if len(c.args) != 2 {
			return exprValue{}, fmt.Errorf("FILL takes two arguments")
		}
		v, err := e.eval(c.args[0])
		if err != nil {
			return exprValue{}, err
		}
		f, err := e.eval(c.args[1])
		if err != nil {
			return exprValue{}, err
		}
		if v.kind == scalarKind || f.kind != scalarKind {
			return exprValue{}, fmt.Errorf("FILL takes a time series and a number")
		}
		out := exprValue{kind: v.kind}
		for _, s := range v.series {
			out.series = append(out.series, fill(s, e.grid, f.scalar))
		}
		return out, nil
	case "ABS":
		if len(c.args) != 1 {
			return exprValue{}, fmt.Errorf("ABS takes one argument")
		}
		v, err := e.eval(c.args[0])
		if err != nil {
			return exprValue{}, err
		}
		return mapValue(v, math.Abs), nil
	case "SUM", "AVG", "MIN", "MAX":
		if len(c.args) != 1 {
			return exprValue{}, fmt.Errorf("%s takes one argument", c.fn)
		}
		v, err := e.eval(c.args[0])
		if err != nil {
			return exprValue{}, err
		}
		return reduce(c.fn, v)
	}
	return exprValue{}, fmt.Errorf("unknown function %s", c.fn)
}

func fill(s ts, grid []int64, with float64) ts {
	have := map[int64]float64{}
	for i, t := range s.t {
		have[t] = s.v[i]
	}
	out := ts{label: s.label}
	for _, t := range grid {
		v, ok := have[t]
		if !ok {
			v = with
		}
		out.t = append(out.t, t)
		out.v = append(out.v, v)
	}
	return out
}

func reduceValues(fn string, vals []float64) float64 {
	acc := vals[0]
	for _, v := range vals[1:] {
		switch fn {
		case "SUM", "AVG":
			acc += v
		case "MIN":
			acc = math.Min(acc, v)
		case "MAX":
			acc = math.Max(acc, v)
		}
	}
	if fn == "AVG" {
		acc /= float64(len(vals))
	}
	return acc
}

// reduce aggregates an array per timestamp into one series, or one series
// into a scalar.
func reduce(fn string, v exprValue) (exprValue, error) {
	switch v.kind {
	case scalarKind:
		return v, nil
	case seriesKind:
		s := v.series[0]
		if len(s.v) == 0 {
			return exprValue{kind: seriesKind, series: []ts{{label: s.label}}}, nil
		}
		return exprValue{kind: scalarKind, scalar: reduceValues(fn, s.v)}, nil
	}
	at := map[int64][]float64{}
	for _, s := range v.series {
		for i, t := range s.t {
			at[t] = append(at[t], s.v[i])
		}
	}
	out := ts{}
	for t := range at {
		out.t = append(out.t, t)
	}
	sort.Slice(out.t, func(i, j int) bool { return out.t[i] < out.t[j] })
	for _, t := range out.t {
		out.v = append(out.v, reduceValues(fn, at[t]))
	}
	return exprValue{kind: seriesKind, series: []ts{out}}, nil
}
