package plan

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/golden"
)

// TestInvalidPlansGolden parses each malformed plan in testdata/invalid and
// compares the full diagnostics text with NAME.golden.
func TestInvalidPlansGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d invalid plans; want at least 25", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(filepath.Base(f), data)
			if err == nil {
				t.Fatalf("plan accepted: %+v", p)
			}
			var ds Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("error is %T, want Diagnostics: %v", err, err)
			}
			for _, d := range ds {
				if d.Pos.Line == 0 || d.Pos.Col == 0 {
					t.Errorf("diagnostic without position: %v", d)
				}
			}
			got := err.Error() + "\n"
			golden.Check(t, strings.TrimSuffix(f, ".yaml")+".golden", []byte(got))
		})
	}
}
