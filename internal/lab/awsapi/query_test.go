package awsapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func postForm(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("err = %v, want %d %s", err, status, code)
	}
}

func TestDecodeQueryMergesBodyAndURL(t *testing.T) {
	p, err := DecodeQuery(postForm("/?Names.member.2=b", "Action=Describe&Version=2015-12-01&Names.member.1=a"), "2015-12-01")
	if err != nil {
		t.Fatal(err)
	}
	if p.Get("Action") != "Describe" || p.Get("Names.member.1") != "a" || p.Get("Names.member.2") != "b" {
		t.Fatalf("params = %v", p)
	}
}

func TestDecodeQueryRefusals(t *testing.T) {
	_, err := DecodeQuery(postForm("/", "Version=2015-12-01"), "2015-12-01")
	wantCode(t, err, http.StatusBadRequest, "MissingAction")
	_, err = DecodeQuery(postForm("/", "Action=Describe&Version=2011-06-15"), "2015-12-01")
	wantCode(t, err, http.StatusBadRequest, "InvalidAction")
	if !strings.Contains(err.Error(), "Could not find operation Describe for version 2011-06-15") {
		t.Errorf("message = %q", err)
	}
	_, err = DecodeQuery(postForm("/", "Action=%zz"), "2015-12-01")
	wantCode(t, err, http.StatusBadRequest, "MalformedQueryString")
	// An absent Version is accepted: the CLI and SDKs always send one, but
	// hand-made requests often do not.
	if _, err := DecodeQuery(postForm("/", "Action=Describe"), "2015-12-01"); err != nil {
		t.Fatal(err)
	}
}

func TestQueryMembersStopsAtGapAndBound(t *testing.T) {
	v := url.Values{"L.member.1": {"a"}, "L.member.2": {""}, "L.member.3": {"c"}, "L.member.5": {"e"}}
	if got := QueryMembers(v, "L", 100); !reflect.DeepEqual(got, []string{"a", "", "c"}) {
		t.Errorf("members = %q, want [a  c]", got)
	}
	if got := QueryMembers(v, "L", 2); !reflect.DeepEqual(got, []string{"a", ""}) {
		t.Errorf("bounded members = %q", got)
	}
	if got := QueryMembers(v, "Other", 100); got != nil {
		t.Errorf("absent list = %q, want nil", got)
	}
}

func TestServeQueryEnvelope(t *testing.T) {
	type result struct {
		Name string `xml:"Name"`
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeQuery(w, r, "urn:test", "2020-01-01", func(action string, p url.Values) (any, error) {
			if action == "Echo" {
				return result{Name: p.Get("Name")}, nil
			}
			return nil, ErrUnknownAction(action, "2020-01-01")
		})
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, postForm("/", "Action=Echo&Name=a%3Cb"))
	rid := rec.Header().Get("x-amzn-RequestId")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<EchoResponse xmlns="urn:test"><EchoResult><Name>a&lt;b</Name></EchoResult>` +
		`<ResponseMetadata><RequestId>` + rid + `</RequestId></ResponseMetadata></EchoResponse>`
	if rec.Code != http.StatusOK || rid == "" || rec.Body.String() != want || rec.Header().Get("Content-Type") != "text/xml" {
		t.Fatalf("%d %q\n%s\nwant\n%s", rec.Code, rec.Header(), rec.Body, want)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, postForm("/", "Action=Nope"))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "<Code>InvalidAction</Code>") ||
		!strings.Contains(rec.Body.String(), "Could not find operation Nope for version 2020-01-01") {
		t.Fatalf("unknown action: %d %s", rec.Code, rec.Body)
	}
}
