package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"testing"

	"github.com/cutover/cutover/internal/store"
)

// TestEventTypesListsEveryConstant keeps EventTypes and the constants in
// events.go in step: a type declared but not listed would be unknown to
// subscribers, and a value listed twice would make two types one.
func TestEventTypesListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "events.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[store.EventType]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventType" {
				continue
			}
			for i, name := range vs.Names {
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatalf("%s: %v", name.Name, err)
				}
				if prev, dup := declared[store.EventType(v)]; dup {
					t.Errorf("%s and %s are both %q", prev, name.Name, v)
				}
				declared[store.EventType(v)] = name.Name
			}
		}
	}
	listed := map[store.EventType]bool{}
	for _, typ := range store.EventTypes {
		if listed[typ] {
			t.Errorf("EventTypes lists %q twice", typ)
		}
		listed[typ] = true
		if _, ok := declared[typ]; !ok {
			t.Errorf("EventTypes lists %q, which no constant declares", typ)
		}
	}
	for v, name := range declared {
		if !listed[v] {
			t.Errorf("%s (%q) is missing from EventTypes", name, v)
		}
	}
	if len(declared) == 0 {
		t.Fatal("no EventType constants found in events.go")
	}
}

func TestEventTypeValues(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z]+(\.[a-z]+(-[a-z]+)*)?$`)
	for _, typ := range store.EventTypes {
		if !shape.MatchString(string(typ)) {
			t.Errorf("event type %q is not of the form noun.verb", typ)
		}
		if !typ.Known() {
			t.Errorf("%q is listed but not Known", typ)
		}
	}
	for _, typ := range []store.EventType{"", "step.started", "run.Done", "run.done "} {
		if typ.Known() {
			t.Errorf("%q is Known, want unknown", typ)
		}
	}
}
