package awsconfig_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/awsconfig/mototest"
)

// isolate points the SDK's default chain at a known static identity and
// empty shared files, so the machine's own profile cannot leak in.
func isolate(t *testing.T, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_ACCESS_KEY_ID":           "AKIDBASE",
		"AWS_SECRET_ACCESS_KEY":       "base-secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "",
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ENDPOINT_URL_STS":        "",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_MAX_ATTEMPTS":            "1",
	} {
		t.Setenv(k, v)
	}
}

// call is one request the fake STS saw.
type call struct {
	Action, RoleARN, ExternalID, SessionName string
	SignedBy                                 string // access key id in the SigV4 credential scope
}

// fakeSTS answers AssumeRole and GetCallerIdentity over the query protocol
// and records who signed each call. Hop n's credentials are ASIAHOP<n>.
type fakeSTS struct {
	mu    sync.Mutex
	calls []call
	// expires is the sessions' expiry; zero means far in the future.
	expires time.Time
}

var credRE = regexp.MustCompile(`Credential=([A-Z0-9]+)/`)

func (f *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	c := call{
		Action:      r.PostForm.Get("Action"),
		RoleARN:     r.PostForm.Get("RoleArn"),
		ExternalID:  r.PostForm.Get("ExternalId"),
		SessionName: r.PostForm.Get("RoleSessionName"),
	}
	if m := credRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		c.SignedBy = m[1]
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	n := 0
	for _, x := range f.calls {
		if x.Action == "AssumeRole" {
			n++
		}
	}
	expires := "2099-01-01T00:00:00Z"
	if !f.expires.IsZero() {
		expires = f.expires.UTC().Format(time.RFC3339)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch c.Action {
	case "AssumeRole":
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAHOP%d</AccessKeyId><SecretAccessKey>secret-%d</SecretAccessKey><SessionToken>token-%d</SessionToken><Expiration>%s</Expiration></Credentials>
<AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROA%d:%s</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			n, n, n, expires, c.RoleARN, c.SessionName, n, c.SessionName)
	case "GetCallerIdentity":
		fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:sts::123456789012:caller/%s</Arn><UserId>%s</UserId><Account>123456789012</Account>
</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`, c.SignedBy, c.SignedBy)
	default:
		http.Error(w, "unexpected action "+c.Action, 400)
	}
}

func (f *fakeSTS) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func callerIdentity(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return aws.ToString(out.Arn)
}

func TestLoadHonoursEndpointURL(t *testing.T) {
	fake := &fakeSTS{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	isolate(t, srv.URL)

	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(cfg.BaseEndpoint); got != srv.URL {
		t.Errorf("BaseEndpoint = %q, want %q", got, srv.URL)
	}
	if arn := callerIdentity(t, cfg); !strings.HasSuffix(arn, "/AKIDBASE") {
		t.Errorf("caller = %q, want the base identity", arn)
	}
	calls := fake.snapshot()
	if len(calls) != 1 || calls[0].Action != "GetCallerIdentity" || calls[0].SignedBy != "AKIDBASE" {
		t.Fatalf("calls = %+v, want one GetCallerIdentity signed by AKIDBASE", calls)
	}
}

func TestLoadServiceEndpointBeatsGlobal(t *testing.T) {
	global := &fakeSTS{}
	gsrv := httptest.NewServer(global)
	defer gsrv.Close()
	specific := &fakeSTS{}
	ssrv := httptest.NewServer(specific)
	defer ssrv.Close()
	isolate(t, gsrv.URL)
	t.Setenv("AWS_ENDPOINT_URL_STS", ssrv.URL)

	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	callerIdentity(t, cfg)
	if len(global.snapshot()) != 0 || len(specific.snapshot()) != 1 {
		t.Fatalf("global got %d calls, sts-specific got %d; want 0 and 1",
			len(global.snapshot()), len(specific.snapshot()))
	}
}

func TestLoadRegionOptionOverridesEnv(t *testing.T) {
	isolate(t, "http://127.0.0.1:1")
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Fatalf("Region = %q, want eu-west-1", cfg.Region)
	}
}

func TestLoadAssumesRoleChainInOrder(t *testing.T) {
	fake := &fakeSTS{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	isolate(t, srv.URL)

	hub := "arn:aws:iam::111111111111:role/hub"
	zone := "arn:aws:iam::222222222222:role/dns"
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
		RoleARNs:   []string{hub},
		RoleARN:    zone,
		ExternalID: "ext-42",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.snapshot()) != 0 {
		t.Fatalf("Load called STS eagerly: %+v", fake.snapshot())
	}
	// Two calls: the credentials cache must assume each role only once.
	if arn := callerIdentity(t, cfg); !strings.HasSuffix(arn, "/ASIAHOP2") {
		t.Errorf("caller = %q, want the second hop's identity", arn)
	}
	callerIdentity(t, cfg)

	want := []call{
		{Action: "AssumeRole", RoleARN: hub, ExternalID: "ext-42", SessionName: "cutover", SignedBy: "AKIDBASE"},
		{Action: "AssumeRole", RoleARN: zone, ExternalID: "ext-42", SessionName: "cutover", SignedBy: "ASIAHOP1"},
		{Action: "GetCallerIdentity", SignedBy: "ASIAHOP2"},
		{Action: "GetCallerIdentity", SignedBy: "ASIAHOP2"},
	}
	got := fake.snapshot()
	if len(got) != len(want) {
		t.Fatalf("calls = %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// A session within RefreshBefore of its expiry is renewed before the
// next call is signed; one further out is reused.
func TestLoadRefreshesBeforeExpiry(t *testing.T) {
	for _, c := range []struct {
		left    time.Duration
		assumes int
	}{{awsconfig.RefreshBefore / 2, 3}, {awsconfig.RefreshBefore * 5, 1}} {
		fake := &fakeSTS{expires: time.Now().Add(c.left)}
		srv := httptest.NewServer(fake)
		isolate(t, srv.URL)
		cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{RoleARN: "arn:aws:iam::222222222222:role/dns"})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			callerIdentity(t, cfg)
		}
		n := 0
		for _, x := range fake.snapshot() {
			if x.Action == "AssumeRole" {
				n++
			}
		}
		if n != c.assumes {
			t.Errorf("session expiring in %s: %d AssumeRole calls for 3 API calls, want %d", c.left, n, c.assumes)
		}
		srv.Close()
	}
}

func TestLoadWithoutRoleNeverAssumes(t *testing.T) {
	fake := &fakeSTS{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	isolate(t, srv.URL)
	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{SessionName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	callerIdentity(t, cfg)
	for _, c := range fake.snapshot() {
		if c.Action == "AssumeRole" {
			t.Fatalf("AssumeRole called without a role: %+v", c)
		}
	}
}

func TestLoadRejectsBadRoleAndMissingRegion(t *testing.T) {
	isolate(t, "http://127.0.0.1:1")
	_, err := awsconfig.Load(context.Background(), awsconfig.Options{RoleARN: "role/dns"})
	if !errors.Is(err, awsconfig.ErrInvalidRoleARN) {
		t.Errorf("bad arn: err = %v, want ErrInvalidRoleARN", err)
	}
	t.Setenv("AWS_REGION", "")
	_, err = awsconfig.Load(context.Background(), awsconfig.Options{RoleARN: "arn:aws:iam::1:role/dns"})
	if !errors.Is(err, awsconfig.ErrNoRegion) {
		t.Errorf("no region: err = %v, want ErrNoRegion", err)
	}
}

func TestChainOrder(t *testing.T) {
	o := awsconfig.Options{RoleARNs: []string{"a", " ", "b"}, RoleARN: "c"}
	if got := strings.Join(o.Chain(), ","); got != "a,b,c" {
		t.Fatalf("Chain = %q, want a,b,c", got)
	}
}

// TestLoadAgainstMoto checks the chain against an independent STS
// implementation: the final identity must be the assumed role's session.
func TestLoadAgainstMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	isolate(t, endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")

	cfg, err := awsconfig.Load(context.Background(), awsconfig.Options{
		RoleARN:     "arn:aws:iam::123456789012:role/dns-editor",
		SessionName: "run-7",
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := callerIdentity(t, cfg)
	if !strings.Contains(arn, ":assumed-role/dns-editor/run-7") {
		t.Fatalf("caller = %q, want an assumed-role session of dns-editor named run-7", arn)
	}
}
