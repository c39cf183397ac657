package sts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const (
	roleInOther   = "arn:aws:iam::222222222222:role/cutover-dns"
	roleWithExtID = "arn:aws:iam::222222222222:role/path/partner"
	roleBackInA   = "arn:aws:iam::111111111111:role/edge-admin"
)

type lab struct {
	clock *fakeclock.Clock
	env   awsapi.Env
	svc   *Service
	url   string
}

func newLab(t *testing.T) *lab {
	t.Helper()
	clock := fakeclock.New(t0)
	env := awsapi.NewEnv(clock)
	svc := New(env, Options{Roles: []Role{
		{ARN: roleInOther, TrustedAccounts: []string{awsapi.DefaultAccountID}, MaxSessionDuration: 4 * time.Hour},
		{ARN: roleWithExtID, TrustedAccounts: []string{"arn:aws:iam::111111111111:root"}, ExternalID: "s3cr3t-ext"},
		{ARN: roleBackInA, TrustedAccounts: []string{roleInOther}, MaxSessionDuration: 12 * time.Hour},
	}})
	srv := httptest.NewServer(awstest.Authenticate(env, awstest.XMLErrors(Namespace), awstest.ErrMissingToken, svc))
	t.Cleanup(srv.Close)
	return &lab{clock: clock, env: env, svc: svc, url: srv.URL}
}

func (l *lab) client(akid, secret, token string) *sts.Client {
	return sts.NewFromConfig(awstest.ConfigAs(l.url, akid, secret, token))
}

func (l *lab) admin() *sts.Client { return sts.NewFromConfig(awstest.Config(l.url)) }

func apiError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae
}

func TestGetCallerIdentitySDK(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out, err := l.admin().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != awsapi.DefaultAccountID || aws.ToString(out.Arn) != "arn:aws:iam::111111111111:user/lab-admin" || aws.ToString(out.UserId) != "AIDALAB1111ADMIN0001" {
		t.Fatalf("caller = %v %v %v", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
	other, err := l.client(awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(other.Account) != awsapi.OtherAccountID {
		t.Fatalf("other account = %s", aws.ToString(other.Account))
	}
	if n := len(l.env.History.List(awsapi.Filter{})); n != 0 {
		t.Fatalf("reads recorded %d history entries", n)
	}
}

func TestAssumeRoleChainReachesOtherAccount(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out, err := l.admin().AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleInOther),
		RoleSessionName: aws.String("cutover-run-1"),
		DurationSeconds: aws.Int32(7200),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || len(aws.ToString(c.AccessKeyId)) != 20 || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" {
		t.Fatalf("credentials = %+v", c)
	}
	if !c.Expiration.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("expiration = %v, want %v", c.Expiration, t0.Add(2*time.Hour))
	}
	wantARN := "arn:aws:sts::222222222222:assumed-role/cutover-dns/cutover-run-1"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN || !strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":cutover-run-1") {
		t.Fatalf("assumed role user = %v / %v", aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	}

	// The minted key acts in the role's account.
	inB := l.client(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	who, err := inB.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(who.Account) != awsapi.OtherAccountID || aws.ToString(who.Arn) != wantARN || aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("caller in B = %v %v %v", aws.ToString(who.Account), aws.ToString(who.Arn), aws.ToString(who.UserId))
	}

	// Chaining from B's session back to a role in A: at most one hour,
	// even though that role allows twelve.
	_, err = inB.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleBackInA), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(7200)})
	if ae := apiError(t, err); ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining." {
		t.Fatalf("chained 2h: %v", err)
	}
	hop2, err := inB.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleBackInA), RoleSessionName: aws.String("hop2")})
	if err != nil {
		t.Fatal(err)
	}
	back, err := l.client(aws.ToString(hop2.Credentials.AccessKeyId), aws.ToString(hop2.Credentials.SecretAccessKey), aws.ToString(hop2.Credentials.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(back.Arn) != "arn:aws:sts::111111111111:assumed-role/edge-admin/hop2" {
		t.Fatalf("second hop caller = %s", aws.ToString(back.Arn))
	}

	// History: two accepted AssumeRole calls, attributed to their callers,
	// without secrets; the refused one and the reads are absent.
	h := l.env.History.List(awsapi.Filter{Service: "sts"})
	if len(h) != 2 {
		t.Fatalf("history has %d entries, want 2: %+v", len(h), h)
	}
	if h[0].Caller != "arn:aws:iam::111111111111:user/lab-admin" || h[0].Resource != roleInOther || h[0].Operation != "AssumeRole" {
		t.Fatalf("first entry = %+v", h[0])
	}
	if h[1].Caller != wantARN || h[1].Account != awsapi.OtherAccountID {
		t.Fatalf("second entry = %+v", h[1])
	}
	for _, e := range h {
		s := string(e.After)
		if strings.Contains(s, aws.ToString(c.SecretAccessKey)) || strings.Contains(s, aws.ToString(c.SessionToken)) ||
			strings.Contains(s, aws.ToString(hop2.Credentials.SecretAccessKey)) || strings.Contains(s, aws.ToString(hop2.Credentials.SessionToken)) {
			t.Fatalf("history leaks a secret: %s", s)
		}
	}
	if !strings.Contains(string(h[0].After), aws.ToString(c.AccessKeyId)) {
		t.Fatalf("history should name the key id: %s", h[0].After)
	}
}

func TestAssumedCredentialsExpire(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	out, err := l.admin().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	akid := aws.ToString(out.Credentials.AccessKeyId)
	l.clock.Advance(15*time.Minute - time.Second)
	if _, e := l.env.Keys.Lookup(akid); e != nil {
		t.Fatalf("key refused before expiry: %v", e)
	}
	l.clock.Advance(time.Second)
	if _, e := l.env.Keys.Lookup(akid); e == nil || e.Code != "ExpiredToken" {
		t.Fatalf("lookup after expiry = %v, want ExpiredToken", e)
	}
	_, err = l.client(akid, aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if ae := apiError(t, err); ae.ErrorCode() != "ExpiredToken" {
		t.Fatalf("expired call: %v", err)
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	other := l.client(awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "")
	cases := []struct {
		name     string
		client   *sts.Client
		in       sts.AssumeRoleInput
		code     string
		message  string
		status   int
		isDenied bool
	}{
		{"untrusted account", other, sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("x1")},
			"AccessDenied", "User: arn:aws:iam::222222222222:user/lab-admin is not authorized to perform: sts:AssumeRole on resource: " + roleInOther, 403, true},
		{"missing external id", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleWithExtID), RoleSessionName: aws.String("x1")},
			"AccessDenied", "User: arn:aws:iam::111111111111:user/lab-admin is not authorized to perform: sts:AssumeRole on resource: " + roleWithExtID, 403, true},
		{"wrong external id", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleWithExtID), RoleSessionName: aws.String("x1"), ExternalId: aws.String("nope-nope")},
			"AccessDenied", "User: arn:aws:iam::111111111111:user/lab-admin is not authorized to perform: sts:AssumeRole on resource: " + roleWithExtID, 403, true},
		{"unknown role", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/ghost"), RoleSessionName: aws.String("x1")},
			"AccessDenied", "User: arn:aws:iam::111111111111:user/lab-admin is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/ghost", 403, true},
		{"session name chars", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("bad name!")},
			"ValidationError", "1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", 400, false},
		{"session name short", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("x")},
			"ValidationError", "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", 400, false},
		{"duration too short", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("x1"), DurationSeconds: aws.Int32(899)},
			"ValidationError", "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", 400, false},
		{"duration over role max", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String(roleInOther), RoleSessionName: aws.String("x1"), DurationSeconds: aws.Int32(5 * 3600)},
			"ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400, false},
		{"not an arn", l.admin(), sts.AssumeRoleInput{RoleArn: aws.String("this-is-not-a-role-arn"), RoleSessionName: aws.String("x1")},
			"ValidationError", "Request ARN is invalid", 400, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.AssumeRole(ctx, &tc.in)
			ae := apiError(t, err)
			if ae.ErrorCode() != tc.code || ae.ErrorMessage() != tc.message {
				t.Fatalf("got %s: %s\nwant %s: %s", ae.ErrorCode(), ae.ErrorMessage(), tc.code, tc.message)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != tc.status {
				t.Fatalf("status %d, want %d", re.HTTPStatusCode(), tc.status)
			}
		})
	}
	if n := len(l.env.History.List(awsapi.Filter{})); n != 0 {
		t.Fatalf("refused requests recorded %d history entries", n)
	}
	// The right ExternalId opens the role.
	if _, err := l.admin().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleWithExtID), RoleSessionName: aws.String("x1"), ExternalId: aws.String("s3cr3t-ext")}); err != nil {
		t.Fatalf("with external id: %v", err)
	}
}

func TestUnknownActionAndMalformedBody(t *testing.T) {
	l := newLab(t)
	for _, tc := range []struct{ body, code string }{
		{"Action=DeleteEverything&Version=2011-06-15", "InvalidAction"},
		{"Version=2011-06-15", "MissingAction"},
		{"Action=GetCallerIdentity&Version=1999-01-01", "InvalidAction"},
		{"Action=%zz", "MalformedQueryString"},
		{"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::222222222222:role/cutover-dns&RoleSessionName=ok&DurationSeconds=12x", "ValidationError"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		l.svc.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "<Code>"+tc.code+"</Code>") {
			t.Fatalf("%q: %d %s", tc.body, rec.Code, rec.Body.String())
		}
	}
}

func TestSnapshotRestoreKeepsRolesAndSessions(t *testing.T) {
	l := newLab(t)
	out, err := l.svc.AssumeRole(awsapi.IdentityFrom(context.Background()), AssumeRoleInput{RoleARN: roleInOther, RoleSessionName: "snap"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	env2 := awsapi.NewEnv(l.clock)
	svc2 := New(env2, Options{})
	if err := svc2.Restore(raw); err != nil {
		t.Fatal(err)
	}
	if got := len(svc2.Roles()); got != 3 {
		t.Fatalf("restored %d roles", got)
	}
	cred, e := env2.Keys.Lookup(out.AccessKeyID)
	if e != nil || cred.Identity.AccountID != awsapi.OtherAccountID || cred.SecretAccessKey != out.SecretAccessKey {
		t.Fatalf("restored key: %+v %v", cred, e)
	}
	if err := svc2.Restore(json.RawMessage(`{"roles":[{"arn":"nope"}]}`)); err == nil {
		t.Fatal("restore accepted a bad role ARN")
	}
	if err := svc2.AddRole(Role{ARN: roleInOther, MaxSessionDuration: 13 * time.Hour}); err == nil {
		t.Fatal("AddRole accepted a 13h max session")
	}
}

func TestCLI(t *testing.T) {
	l := newLab(t)
	res := awstest.CLI(t, l.url, "sts", "get-caller-identity")
	if res.ExitCode != 0 {
		t.Fatalf("get-caller-identity: %d %s", res.ExitCode, res.Stderr)
	}
	var who struct{ UserId, Account, Arn string }
	if err := json.Unmarshal([]byte(res.Stdout), &who); err != nil {
		t.Fatal(err)
	}
	if who.Account != awsapi.DefaultAccountID || who.Arn != "arn:aws:iam::111111111111:user/lab-admin" || who.UserId != "AIDALAB1111ADMIN0001" {
		t.Fatalf("cli caller = %+v", who)
	}

	res = awstest.CLI(t, l.url, "sts", "assume-role", "--role-arn", roleInOther, "--role-session-name", "cli-run", "--duration-seconds", "1800")
	if res.ExitCode != 0 {
		t.Fatalf("assume-role: %d %s", res.ExitCode, res.Stderr)
	}
	var ar struct {
		Credentials struct {
			AccessKeyId, SecretAccessKey, SessionToken string
			Expiration                                 time.Time
		}
		AssumedRoleUser struct{ AssumedRoleId, Arn string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &ar); err != nil {
		t.Fatalf("%v: %s", err, res.Stdout)
	}
	if ar.AssumedRoleUser.Arn != "arn:aws:sts::222222222222:assumed-role/cutover-dns/cli-run" || !ar.Credentials.Expiration.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("cli assume-role = %+v", ar)
	}
	if cred, e := l.env.Keys.Lookup(ar.Credentials.AccessKeyId); e != nil || cred.Identity.AccountID != awsapi.OtherAccountID {
		t.Fatalf("cli-minted key: %v", e)
	}

	res = awstest.CLI(t, l.url, "sts", "assume-role", "--role-arn", roleWithExtID, "--role-session-name", "cli-run")
	want := "): User: arn:aws:iam::111111111111:user/lab-admin is not authorized to perform: sts:AssumeRole on resource: " + roleWithExtID
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "An error occurred (AccessDenied) when calling the AssumeRole operation") || !strings.Contains(res.Stderr, want) {
		t.Fatalf("cli access denied: %d %s", res.ExitCode, res.Stderr)
	}
}
