package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the plan file at path. See Parse.
func Load(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes a plan strictly, fills its defaults and validates it.
//
// When the plan is invalid, the error is a Diagnostics holding every problem
// found (warnings included), and the plan is nil. Otherwise the plan's
// Warnings method returns what did not stop it from loading.
func Parse(filename string, data []byte) (*Plan, error) {
	root, diags := parseYAML(filename, data)
	if diags.HasErrors() {
		diags.Sort()
		return nil, diags
	}
	d := newDecoder(filename)
	p := Default()
	d.decode(root, reflect.ValueOf(p).Elem(), "")
	p.file = filename
	p.positions = d.pos
	if p.Pos.IsZero() {
		// The top level is not a mapping: nothing more can be said.
		d.diags.Sort()
		return nil, d.diags
	}
	d.diags = append(d.diags, readHostFiles(p, filename, d.failed)...)
	p.complete()
	v := &validator{p: p, failed: d.failed}
	v.run()
	all := append(d.diags, v.diags...)
	all.Sort()
	if all.HasErrors() {
		return nil, all
	}
	p.warnings = all
	return p, nil
}

// yamlLine finds the line number yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads exactly one YAML document and returns its top node.
func parseYAML(filename string, data []byte) (*yaml.Node, Diagnostics) {
	start := Pos{File: filename, Line: 1, Col: 1}
	fail := func(err error) Diagnostics {
		pos, msg := start, err.Error()
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			if line, convErr := strconv.Atoi(m[1]); convErr == nil && line > 0 {
				pos.Line = line
			}
			msg = m[2]
		} else if rest, ok := strings.CutPrefix(msg, "yaml: "); ok {
			msg = rest
		}
		return Diagnostics{{Pos: pos, Severity: SeverityError, Message: "invalid YAML: " + msg}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Diagnostics{{Pos: start, Severity: SeverityError, Message: "the plan is empty"}}
		}
		return nil, fail(err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		pos := start
		if next.Line > 0 {
			pos.Line, pos.Col = next.Line, next.Column
		}
		return nil, Diagnostics{{Pos: pos, Severity: SeverityError,
			Message: "a plan file holds exactly one YAML document; found a second one"}}
	case !errors.Is(err, io.EOF):
		return nil, fail(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Diagnostics{{Pos: start, Severity: SeverityError, Message: "the plan is empty"}}
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, Diagnostics{{Pos: start, Severity: SeverityError, Message: "the plan is empty"}}
	}
	if root.Line == 0 {
		root.Line, root.Column = 1, 1
	}
	return root, nil
}
