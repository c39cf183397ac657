package connect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/runbook"
)

// The TSIG secret is read where the runbook says, checked, and never
// echoed in an error.
func TestRFC2136ReadsTheSecretWhereTheRunbookSays(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	bad := filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("c2VjcmV0c2VjcmV0\n"), 0o600)
	os.WriteFile(bad, []byte("not base64 at all!\n"), 0o600)
	t.Setenv("CUTOVER_TSIG_OK", "c2VjcmV0c2VjcmV0")
	t.Setenv("CUTOVER_TSIG_EMPTY", " ")
	ref := func(file, env string) *runbook.ZoneServer {
		return &runbook.ZoneServer{Server: "127.0.0.1:53", TSIG: &runbook.TSIGRef{Name: "k", Algorithm: "hmac-sha256", SecretFile: file, SecretEnv: env}}
	}
	for _, zs := range []*runbook.ZoneServer{ref(good, ""), ref("", "CUTOVER_TSIG_OK")} {
		if _, err := RFC2136(zs); err != nil {
			t.Errorf("%+v: %v", zs.TSIG, err)
		}
	}
	for _, c := range []struct {
		zs   *runbook.ZoneServer
		want string
	}{
		{ref(filepath.Join(dir, "missing"), ""), "reading the secret"},
		{ref(bad, ""), "does not hold base64"},
		{ref("", "CUTOVER_TSIG_UNSET"), "CUTOVER_TSIG_UNSET is not set"},
		{ref("", "CUTOVER_TSIG_EMPTY"), "is empty"},
	} {
		_, err := RFC2136(c.zs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.zs.TSIG, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "not base64 at all") {
			t.Errorf("the error echoes the file's content: %v", err)
		}
	}
}
