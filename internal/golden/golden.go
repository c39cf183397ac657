// Package golden compares what a test rendered with a golden file, and
// rewrites the file instead when the test binary runs with -update
// (go test ./internal/report -update).
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// Update tells whether this run rewrites golden files (-update).
func Update() bool { return *update }

// Check compares got with the file at path, which -update first rewrites
// with got. A missing file fails the test at once; a difference fails it
// showing both, and the test goes on.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
