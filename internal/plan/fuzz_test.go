package plan

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every rejection
// is a Diagnostics whose entries all carry a position.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../../examples/*.yaml", "testdata/invalid/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data)
		if err == nil {
			if p == nil {
				t.Fatal("nil plan without error")
			}
			for _, w := range p.Warnings() {
				if w.Pos.Line == 0 || w.Pos.Col == 0 {
					t.Fatalf("warning without position: %v", w)
				}
			}
			return
		}
		var ds Diagnostics
		if !errors.As(err, &ds) {
			t.Fatalf("error is %T, want Diagnostics: %v", err, err)
		}
		if !ds.HasErrors() {
			t.Fatalf("rejected without an error diagnostic: %v", err)
		}
		for _, d := range ds {
			// A bad line of a hostnames file is reported in that file.
			if d.Pos.Line <= 0 || d.Pos.Col <= 0 || (d.Pos.File != "f.yaml" && !isFile(d.Pos.File)) {
				t.Fatalf("diagnostic without position: %#v\ninput:\n%s", d, data)
			}
		}
	})
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
