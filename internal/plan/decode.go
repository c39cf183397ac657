package plan

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder turns yaml.v3 nodes into the plan model by reflection over the
// model's `yaml` tags, collecting every problem with its position instead of
// stopping at the first one.
type decoder struct {
	file  string
	diags Diagnostics
	// pos maps a pointer to a model field to the node it was decoded from.
	// A field is in the map exactly when the file set it.
	pos map[any]Pos
	// failed holds pointers to fields whose decoding reported an error, so
	// that validation does not pile follow-on complaints onto them.
	failed map[any]bool
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, pos: map[any]Pos{}, failed: map[any]bool{}}
}

// nodeDecoder is implemented by model types whose YAML form is not a plain
// mapping of their fields.
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

// defaulter is implemented by blocks with static defaults.
type defaulter interface{ setDefaults() }

func (d *decoder) at(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.diags = append(d.diags, Diagnostic{Pos: d.at(n), Severity: SeverityError, Message: fmt.Sprintf(format, args...)})
}

// label renders a field path for messages.
func label(path string) string {
	if path == "" {
		return "the plan"
	}
	return "`" + path + "`"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve follows alias nodes to what they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe says what a node holds, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:37] + "..."
	}
	switch n.ShortTag() {
	case "!!null":
		return "nothing (an empty value)"
	case "!!str":
		return strconv.Quote(v)
	case "!!int", "!!float":
		return "the number " + v
	case "!!bool":
		return v
	}
	return fmt.Sprintf("%s %s", n.ShortTag(), strconv.Quote(v))
}

// decode decodes n into v, records where v came from, and marks v failed if
// decoding it reported an error.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	before := len(d.diags)
	var addr any
	if v.CanAddr() {
		addr = v.Addr().Interface()
		d.pos[addr] = d.at(n)
	}
	d.decodeValue(n, v, path)
	if addr != nil && len(d.diags) > before {
		d.failed[addr] = true
	}
}

func (d *decoder) decodeValue(n *yaml.Node, v reflect.Value, path string) {
	if v.CanAddr() {
		if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
			nd.decodeNode(d, n, path)
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if df, ok := nv.Interface().(defaulter); ok {
			df.setDefaults()
		}
		d.decode(n, nv.Elem(), path)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, "%s: expected a list, got %s", label(path), describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		// Set first, then decode in place: element addresses must stay the
		// ones recorded in d.pos.
		v.Set(s)
		for i, c := range n.Content {
			el := v.Index(i)
			if df, ok := el.Addr().Interface().(defaulter); ok {
				df.setDefaults()
			}
			d.decode(c, el, fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "%s: expected a mapping, got %s", label(path), describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for _, e := range d.entries(n, path) {
			el := reflect.New(v.Type().Elem()).Elem()
			d.decode(e.val, el, join(path, e.name))
			m.SetMapIndex(reflect.ValueOf(e.name), el)
		}
		v.Set(m)
	case reflect.String:
		if s, ok := d.str(n, path); ok {
			v.SetString(s)
		}
	case reflect.Int, reflect.Int64:
		if i, ok := d.integer(n, path); ok {
			v.SetInt(i)
		}
	case reflect.Float64:
		if f, ok := d.float(n, path); ok {
			v.SetFloat(f)
		}
	case reflect.Bool:
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
			v.SetBool(strings.EqualFold(n.Value, "true"))
			return
		}
		d.errorf(n, "%s: expected true or false, got %s", label(path), describe(n))
	default:
		panic(fmt.Sprintf("plan: no decoder for %s", v.Type()))
	}
}

// str decodes a string scalar. Numbers and booleans are not silently turned
// into strings: a header value of 1 must be written "1".
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return n.Value, true
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!timestamp":
			d.errorf(n, "%s: expected a string, got %s; quote it: %q", label(path), describe(n), n.Value)
			return "", false
		}
	}
	d.errorf(n, "%s: expected a string, got %s", label(path), describe(n))
	return "", false
}

func (d *decoder) integer(n *yaml.Node, path string) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if err == nil {
			return i, true
		}
		d.errorf(n, "%s: %s is out of range", label(path), n.Value)
		return 0, false
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if num, ok := strings.CutSuffix(n.Value, "%"); ok {
			if _, err := strconv.Atoi(strings.TrimSpace(num)); err == nil {
				hint = fmt.Sprintf("; write %s without %%", strings.TrimSpace(num))
			}
		} else if dur, err := ParseDuration(n.Value); err == nil && dur.Std()%1e9 == 0 {
			hint = fmt.Sprintf("; write it in seconds: %d", int64(dur.Std().Seconds()))
		}
	}
	d.errorf(n, "%s: expected a whole number, got %s%s", label(path), describe(n), hint)
	return 0, false
}

func (d *decoder) float(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, true
		}
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if num, ok := strings.CutSuffix(strings.TrimSpace(n.Value), "%"); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(num), 64); err == nil {
				hint = "; write " + strconv.FormatFloat(f/100, 'f', -1, 64)
			}
		}
	}
	d.errorf(n, "%s: expected a number, got %s%s", label(path), describe(n), hint)
	return 0, false
}

// decodeNode parses a duration scalar.
func (du *Duration) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		v, err := ParseDuration(n.Value)
		if err == nil {
			*du = v
			return
		}
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		hint = fmt.Sprintf("; add a unit: %ss", n.Value)
	}
	d.errorf(n, "%s: expected a duration like 5m or 72h, got %s%s", label(path), describe(n), hint)
}

// entry is one key of a mapping.
type entry struct {
	key, val *yaml.Node
	name     string
}

// entries lists a mapping's keys in file order, reporting duplicates and
// non-string keys, and expanding YAML merge keys (<<: *anchor), whose keys
// count only when not written explicitly.
func (d *decoder) entries(n *yaml.Node, path string) []entry {
	var out []entry
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || rk.ShortTag() == "!!null" {
			d.errorf(k, "%s: keys must be plain names, got %s", label(path), describe(rk))
			continue
		}
		if prev, dup := seen[rk.Value]; dup {
			d.errorf(k, "%s: duplicate key `%s` (first set at line %d)", label(path), rk.Value, prev.Line)
			continue
		}
		seen[rk.Value] = k
		out = append(out, entry{key: k, val: v, name: rk.Value})
	}
	var merged []entry
	for _, m := range merges {
		m = resolve(m)
		var sources []*yaml.Node
		switch m.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{m}
		case yaml.SequenceNode:
			for _, c := range m.Content {
				sources = append(sources, resolve(c))
			}
		}
		if len(sources) == 0 {
			d.errorf(m, "%s: a merge key (<<) needs a mapping or a list of mappings, got %s", label(path), describe(m))
			continue
		}
		for _, src := range sources {
			if src.Kind != yaml.MappingNode {
				d.errorf(src, "%s: a merge key (<<) needs a mapping or a list of mappings, got %s", label(path), describe(src))
				continue
			}
			for _, e := range d.entries(src, path) {
				if _, ok := seen[e.name]; ok {
					continue
				}
				seen[e.name] = e.key
				merged = append(merged, e)
			}
		}
	}
	return append(out, merged...)
}

// fieldInfo is a model field as the decoder sees it.
type fieldInfo struct {
	index    int
	name     string
	required bool
	// unless names the sibling field whose presence makes a required
	// field optional (plan:"required,unless=hostnames").
	unless string
}

// fieldsOf lists the YAML fields of a model struct type.
func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if !f.IsExported() || tag == "" || tag == "-" {
			continue
		}
		fi := fieldInfo{index: i, name: tag}
		for _, opt := range strings.Split(f.Tag.Get("plan"), ",") {
			if opt == "required" {
				fi.required = true
			} else if u, ok := strings.CutPrefix(opt, "unless="); ok {
				fi.unless = u
			}
		}
		out = append(out, fi)
	}
	return out
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping, got %s", label(path), describe(n))
		return
	}
	if pf := v.FieldByName("Pos"); pf.IsValid() && pf.Type() == reflect.TypeOf(Pos{}) {
		pf.Set(reflect.ValueOf(d.at(n)))
	}
	fields := fieldsOf(v.Type())
	byName := map[string]fieldInfo{}
	names := make([]string, len(fields))
	for i, f := range fields {
		byName[f.name] = f
		names[i] = f.name
	}
	set := map[string]bool{}
	for _, e := range d.entries(n, path) {
		f, ok := byName[e.name]
		if !ok {
			d.unknown(e.key, path, e.name, names)
			continue
		}
		set[e.name] = true
		d.decode(e.val, v.Field(f.index), join(path, e.name))
	}
	var missing []string
	for _, f := range fields {
		if f.required && !set[f.name] && (f.unless == "" || !set[f.unless]) {
			missing = append(missing, "`"+f.name+"`")
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		d.errorf(n, "%s: missing required field %s", label(path), missing[0])
	default:
		d.errorf(n, "%s: missing required fields %s", label(path), strings.Join(missing, ", "))
	}
}

// unknown reports a key the model does not have, suggesting the closest
// known one.
func (d *decoder) unknown(key *yaml.Node, path, name string, known []string) {
	where := ""
	if path != "" {
		where = " in " + label(path)
	}
	if s := suggest(name, known); s != "" {
		d.errorf(key, "unknown field `%s`%s; did you mean `%s`?", name, where, s)
		return
	}
	d.errorf(key, "unknown field `%s`%s; expected one of: %s", name, where, strings.Join(known, ", "))
}

// edgeKeys are the keys an edge mapping accepts.
var edgeKeys = []string{"cloudfront", "alb", "endpoint", "role_arn", "role_chain", "external_id", "session_name"}

// decodeNode reads an edge: exactly one of cloudfront, alb, endpoint, plus
// the optional identity keys (role_arn, role_chain, external_id,
// session_name).
func (e *Edge) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected a mapping with one of cloudfront, alb or endpoint, got %s", label(path), describe(n))
		return
	}
	e.Pos = d.at(n)
	var kinds []entry
	unknown := false
	for _, en := range d.entries(n, path) {
		switch en.name {
		case "cloudfront", "alb", "endpoint":
			kinds = append(kinds, en)
		case "role_arn":
			d.decode(en.val, reflect.ValueOf(&e.RoleARN).Elem(), join(path, en.name))
		case "role_chain":
			d.decode(en.val, reflect.ValueOf(&e.RoleChain).Elem(), join(path, en.name))
		case "external_id":
			d.decode(en.val, reflect.ValueOf(&e.ExternalID).Elem(), join(path, en.name))
		case "session_name":
			d.decode(en.val, reflect.ValueOf(&e.SessionName).Elem(), join(path, en.name))
		default:
			d.unknown(en.key, path, en.name, edgeKeys)
			unknown = true
		}
	}
	switch len(kinds) {
	case 0:
		if unknown {
			return // the unknown key already says what is wrong
		}
		d.errorf(n, "%s: needs exactly one of cloudfront, alb or endpoint", label(path))
	case 1:
		e.Kind = EdgeKind(kinds[0].name)
		d.pos[&e.Kind] = d.at(kinds[0].key)
		d.decode(kinds[0].val, reflect.ValueOf(&e.Value).Elem(), join(path, kinds[0].name))
	default:
		d.errorf(kinds[1].key, "%s: names both %s and %s; an edge is exactly one of cloudfront, alb or endpoint",
			label(path), kinds[0].name, kinds[1].name)
	}
}

// suggest returns the known name closest to name, if it is close enough to
// be a typo: same letters ignoring case and underscores, or an edit distance
// of at most a third of the name (and at least 1).
func suggest(name string, known []string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	for _, k := range known {
		if norm(k) == norm(name) {
			return k
		}
	}
	best, bestDist := "", -1
	for _, k := range known {
		dist := editDistance(strings.ToLower(name), strings.ToLower(k))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	limit := max(1, len(name)/3)
	if bestDist >= 0 && bestDist <= limit {
		return best
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
