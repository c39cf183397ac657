package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// browserDeps finds Debian's chromium and node, and installs
// playwright-core from testdata/browser/package-lock.json when it is missing.
func browserDeps(t *testing.T) (chromium, node string) {
	t.Helper()
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		awstest.Required(t, "chromium (Debian package chromium)")
	}
	node, err = exec.LookPath("node")
	if err != nil {
		awstest.Required(t, "node (Debian package nodejs)")
	}
	if _, err := os.Stat("testdata/browser/node_modules/playwright-core/package.json"); err == nil {
		return chromium, node
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		awstest.Required(t, "npm (Debian package npm)")
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = "testdata/browser"
	if out, err := cmd.CombinedOutput(); err != nil {
		awstest.Required(t, "playwright-core from the npm registry (npm ci: "+err.Error()+": "+string(out)+")")
	}
	return chromium, node
}

// TestDashboardInChromium opens the dashboard in a real browser while a lab
// migration runs: the run is shown, its chart moves, pause is refused
// without the token and works with it, and so does resume. The
// screenshots are kept in the test's artifact directory (go test
// -artifacts -outputdir DIR keeps them).
func TestDashboardInChromium(t *testing.T) {
	chromium, node := browserDeps(t)
	f := start(t, 8*time.Second)
	code, body := call(t, "POST", f.url+"/api/v1/runs", testToken, f.plan)
	if code != http.StatusCreated {
		t.Fatalf("submit: %d %v", code, body)
	}
	out := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "dashboard.mjs")
	cmd.Dir = "testdata/browser"
	cmd.Env = append(os.Environ(), "URL="+f.url, "TOKEN="+testToken, "RUN=api-move", "OUT="+out, "CHROMIUM="+chromium, "PROFILE="+t.TempDir())
	res, err := cmd.CombinedOutput()
	t.Logf("browser:\n%s", res)
	if err != nil {
		t.Fatalf("dashboard test in chromium: %v", err)
	}
	for _, shot := range []string{"dashboard-paused.png", "dashboard.png"} {
		fi, err := os.Stat(filepath.Join(out, shot))
		if err != nil || fi.Size() < 10_000 {
			t.Fatalf("screenshot %s: %v", shot, err)
		}
	}
	t.Logf("screenshots in %s", out)
	// The pause and resume clicks reached the run, the refused one did not.
	evs, _ := f.store.Events(context.Background(), "api-move", 0)
	var requested []string
	for _, e := range evs {
		if e.Type == "operator.requested" {
			requested = append(requested, e.Message)
		}
	}
	if len(requested) != 2 {
		t.Fatalf("operator requests in the log: %v", requested)
	}
}
