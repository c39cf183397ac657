package webhook

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runbook"
)

func TestSignVerify(t *testing.T) {
	body := []byte(`{"type":"pre-step"}`)
	sig := Sign([]byte("k"), body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature %q", sig)
	}
	if !Verify([]byte("k"), body, sig) || Verify([]byte("other"), body, sig) || Verify([]byte("k"), append(body, ' '), sig) {
		t.Fatal("verify accepts what it should not, or refuses the good one")
	}
}

func TestCallAnswers(t *testing.T) {
	hang := make(chan struct{})
	var gotSig string
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			gotSig, gotBody = r.Header.Get(HeaderSignature), mustRead(r)
		case "/no":
			http.Error(w, "load test failing", http.StatusConflict)
		case "/slow":
			<-hang
		}
	}))
	defer srv.Close()
	defer close(hang) // before Close, which waits for the handler
	secretFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Client{}
	p := Payload{Type: runbook.HookPreStep, Run: "api", Delivery: "api/pre-step/01/ci"}
	hook := func(path string) runbook.Webhook {
		return runbook.Webhook{Name: "ci", URL: srv.URL + path + "?token=hidden", Timeout: runbook.Duration(200 * time.Millisecond), SecretFile: secretFile}
	}
	if err := c.Call(context.Background(), hook("/ok"), p); err != nil {
		t.Fatal(err)
	}
	if !Verify([]byte("from-file"), gotBody, gotSig) {
		t.Fatalf("signature %q does not verify with the file's secret (trailing newline trimmed)", gotSig)
	}
	err := c.Call(context.Background(), hook("/no"), p)
	if err == nil || !strings.Contains(err.Error(), "409") || strings.Contains(err.Error(), "hidden") {
		t.Fatalf("non-2xx: %v (want the status, never the query)", err)
	}
	start := time.Now()
	if err := c.Call(context.Background(), hook("/slow"), p); err == nil || !strings.Contains(err.Error(), "no answer within") {
		t.Fatalf("timeout: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("the timeout did not bound the call")
	}
	h := hook("/ok")
	h.SecretFile, h.SecretEnv = "", "CUTOVER_TEST_UNSET_SECRET"
	if err := c.Call(context.Background(), h, p); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("missing secret: %v", err)
	}
}

func mustRead(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}
