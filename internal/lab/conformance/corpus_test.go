package conformance

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// maxCorpusEntry bounds a committed fuzz input: seeds are meant to be
// minimised, and a large one slows every `go test` run that replays it.
const maxCorpusEntry = 16 << 10

// TestLabFuzzCorporaAreWellFormed keeps the lab's committed fuzz corpora
// usable: every entry is in the format `go test` replays, small, and
// belongs to a fuzz target that still exists in its package (an orphaned
// corpus is silently never run).
func TestLabFuzzCorporaAreWellFormed(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "*", "testdata", "fuzz", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no lab fuzz corpora found; the glob no longer matches the layout")
	}
	for _, dir := range dirs {
		target := filepath.Base(dir)
		pkg := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
		if !declaresFuzzTarget(t, pkg, target) {
			t.Errorf("%s: no func %s in %s's tests; the corpus is never replayed", dir, target, pkg)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte("go test fuzz v1\n")) {
				t.Errorf("%s: not a `go test fuzz v1` file", path)
			}
			if len(data) > maxCorpusEntry {
				t.Errorf("%s: %d bytes; minimise it below %d", path, len(data), maxCorpusEntry)
			}
		}
	}
}

func declaresFuzzTarget(t *testing.T, pkg, target string) bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(pkg, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(target) + `\(\w+ \*testing\.F\)`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if decl.Match(src) {
			return true
		}
	}
	return false
}
