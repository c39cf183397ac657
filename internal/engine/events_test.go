package engine

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/store"
)

// knownEventsOnly checks, when the test ends, that every event the run
// logged has one of the store's event types: subscribers match on them.
func knownEventsOnly(t *testing.T, st store.Store, run string) {
	t.Helper()
	t.Cleanup(func() {
		evs, err := st.Events(context.Background(), run, 0)
		if err != nil {
			t.Errorf("reading the events of run %s: %v", run, err)
			return
		}
		for _, e := range evs {
			if !e.Type.Known() {
				t.Errorf("event %d (%q: %s) has a type that is not one of store.EventTypes", e.Seq, e.Type, e.Message)
			}
		}
	})
}

// TestEventTypesAreConstants reads the engine's source: every event type
// it emits is a store.Event* constant, never a string literal, so the
// types subscribers see are the listed ones even on paths no test takes.
func TestEventTypesAreConstants(t *testing.T) {
	// The argument that carries the event type, per emitting function.
	typeArg := map[string]int{"ev": 0, "evData": 0, "pause": 2, "changeDone": 5}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				var fn string
				switch f := n.Fun.(type) {
				case *ast.Ident:
					fn = f.Name
				case *ast.SelectorExpr:
					fn = f.Sel.Name
				}
				i, ok := typeArg[fn]
				if !ok || len(n.Args) <= i {
					return true
				}
				calls++
				if !isEventConst(n.Args[i]) && !isIdent(n.Args[i], "typ") {
					t.Errorf("%s: %s is given event type %s, want a store.Event* constant", fset.Position(n.Pos()), fn, src[fset.Position(n.Args[i].Pos()).Offset:fset.Position(n.Args[i].End()).Offset])
				}
			case *ast.KeyValueExpr:
				if isIdent(n.Key, "Type") {
					if _, lit := n.Value.(*ast.BasicLit); lit {
						t.Errorf("%s: a literal Type, want a store.Event* constant", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
	}
	if calls < 50 {
		t.Fatalf("found %d event-emitting calls; the emitting functions changed name?", calls)
	}
}

func isEventConst(e ast.Expr) bool {
	s, ok := e.(*ast.SelectorExpr)
	return ok && isIdent(s.X, "store") && strings.HasPrefix(s.Sel.Name, "Event")
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
