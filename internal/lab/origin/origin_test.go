package origin

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, name string) *Origin {
	t.Helper()
	o, err := Start(name, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestMarkerAndHeader(t *testing.T) {
	o := start(t, "old-cdn")
	resp, body, err := get(t, http.DefaultClient, "http://"+o.Addr()+"/ruok")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body != "ok-old-cdn" || resp.Header.Get(HeaderOrigin) != "old-cdn" {
		t.Fatalf("got %d %q %q", resp.StatusCode, body, resp.Header.Get(HeaderOrigin))
	}
	resp, body, err = get(t, http.DefaultClient, "http://"+o.Addr()+"/other/thing")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.Contains(body, "old-cdn") || !strings.Contains(body, "/other/thing") {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if s := o.Stats(); s.Requests != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestTLSOnTheSamePort(t *testing.T) {
	o := start(t, "secure")
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, body, err := get(t, c, "https://"+o.Addr()+"/ruok")
	if err != nil {
		t.Fatal(err)
	}
	if resp.TLS == nil || body != "ok-secure" {
		t.Fatalf("TLS %v body %q", resp.TLS, body)
	}
	// Plain HTTP still works on the same listener afterwards.
	if _, body, err := get(t, http.DefaultClient, "http://"+o.Addr()+"/ruok"); err != nil || body != "ok-secure" {
		t.Fatalf("plain after TLS: %q %v", body, err)
	}
}

func TestErrorRateAndLatency(t *testing.T) {
	o := start(t, "flaky")
	if err := o.SetFault(Fault{ErrorRate: 1, Status: 503, Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	resp, _, err := get(t, http.DefaultClient, "http://"+o.Addr()+"/ruok")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || resp.Header.Get(HeaderOrigin) != "flaky" {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if el := time.Since(began); el < 30*time.Millisecond {
		t.Fatalf("latency not applied: %v", el)
	}
	// A partial rate injects roughly that share.
	if err := o.SetFault(Fault{ErrorRate: 0.5}); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for range 200 {
		resp, _, err := get(t, http.DefaultClient, "http://"+o.Addr()+"/x")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 500 {
			bad++
		}
	}
	if bad < 60 || bad > 140 {
		t.Fatalf("%d of 200 failed at rate 0.5", bad)
	}
	if s := o.Stats(); s.Injected != int64(bad)+1 {
		t.Fatalf("injected %d, counted %d", s.Injected, bad+1)
	}
	for _, f := range []Fault{{ErrorRate: 2}, {ErrorRate: -1}, {Status: 200}, {Latency: -time.Second}} {
		if err := o.SetFault(f); err == nil {
			t.Errorf("fault %+v accepted", f)
		}
	}
}

func TestRefuseResetsConnections(t *testing.T) {
	o := start(t, "down")
	c := &http.Client{Transport: &http.Transport{}, Timeout: 2 * time.Second}
	if _, _, err := get(t, c, "http://"+o.Addr()+"/ruok"); err != nil {
		t.Fatal(err)
	}
	if err := o.SetFault(Fault{Refuse: true}); err != nil {
		t.Fatal(err)
	}
	// Both the kept-alive connection and a fresh one fail.
	for i := range 2 {
		if _, _, err := get(t, c, "http://"+o.Addr()+"/ruok"); err == nil {
			t.Fatalf("request %d succeeded against a refusing origin", i)
		}
	}
	if o.Stats().Refused == 0 {
		t.Fatalf("no refusal counted")
	}
	if err := o.SetFault(Fault{}); err != nil {
		t.Fatal(err)
	}
	if _, body, err := get(t, c, "http://"+o.Addr()+"/ruok"); err != nil || body != "ok-down" {
		t.Fatalf("after recovery: %q %v", body, err)
	}
}

func TestAdminHandler(t *testing.T) {
	reg := NewRegistry()
	t.Cleanup(reg.Close)
	for _, n := range []string{"b", "a"} {
		if _, err := reg.Start(n, "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Start("a", "127.0.0.1:0"); err == nil {
		t.Fatalf("duplicate name accepted")
	}
	mux := http.NewServeMux()
	mux.Handle(AdminPrefix+"/", reg)
	mux.Handle(AdminPrefix, reg)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := do("PUT", "/_lab/origins/a/fault", `{"error_rate":0.25,"status":502,"latency":"15ms","refuse":false}`)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	a, _ := reg.Get("a")
	if f := a.Fault(); f.ErrorRate != 0.25 || f.Status != 502 || f.Latency != 15*time.Millisecond {
		t.Fatalf("fault not applied: %+v", f)
	}
	code, body = do("GET", "/_lab/origins", "")
	var list struct{ Origins []Info }
	if err := json.Unmarshal([]byte(body), &list); err != nil || code != 200 {
		t.Fatalf("%d %s %v", code, body, err)
	}
	if len(list.Origins) != 2 || list.Origins[0].Name != "a" || list.Origins[0].Fault.Latency != "15ms" || list.Origins[1].Fault.ErrorRate != 0 {
		t.Fatalf("list %+v", list)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/_lab/origins/nope/fault", `{}`, 404},
		{"PUT", "/_lab/origins/a/fault", `{"errorRate":1}`, 400},
		{"PUT", "/_lab/origins/a/fault", `{"latency":"soon"}`, 400},
		{"PUT", "/_lab/origins/a/fault", `{"error_rate":3}`, 400},
		{"PUT", "/_lab/origins/a/fault", `{} {}`, 400},
		{"DELETE", "/_lab/origins/a/fault", ``, 405},
		{"GET", "/_lab/origins/a/bogus", ``, 404},
	} {
		if code, body := do(c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, code, body)
		}
	}
	if f := a.Fault(); f.ErrorRate != 0.25 {
		t.Fatalf("a rejected request changed the fault: %+v", f)
	}
}

func FuzzDecodeFault(f *testing.F) {
	f.Add(`{"error_rate":0.5,"status":503,"latency":"1s","refuse":true}`)
	f.Add(`{}`)
	f.Add(`{"latency":"-1h"}`)
	f.Fuzz(func(t *testing.T, in string) {
		fault, err := decodeFault(strings.NewReader(in))
		if err != nil {
			if errors.Unwrap(err) == nil && !strings.Contains(err.Error(), "fault") && !strings.Contains(err.Error(), "latency") && !strings.Contains(err.Error(), "rate") && !strings.Contains(err.Error(), "status") {
				t.Fatalf("unexplained error %v", err)
			}
			return
		}
		if fault.validate() != nil {
			t.Fatalf("decoded an invalid fault %+v", fault)
		}
	})
}

func TestPageAnswers503WithThePageOnEveryPath(t *testing.T) {
	o, err := StartPage("maintenance", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	for _, path := range []string{"/", MarkerPath, "/api/orders?id=7"} {
		resp, body, err := get(t, http.DefaultClient, "http://"+o.Addr()+path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", path, resp.StatusCode)
		}
		if resp.Header.Get(HeaderMaintenance) != "on" || resp.Header.Get("Retry-After") != "300" || resp.Header.Get(HeaderOrigin) != "maintenance" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if !strings.Contains(body, Marker("maintenance")) || !strings.Contains(body, "Down for maintenance") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: body %q", path, body)
		}
	}
	if got := o.Stats().Requests; got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
	plain := start(t, "api")
	if resp, _, _ := get(t, http.DefaultClient, "http://"+plain.Addr()+"/"); resp.StatusCode != 200 || resp.Header.Get(HeaderMaintenance) != "" {
		t.Errorf("a plain origin answers %d with %v", resp.StatusCode, resp.Header)
	}
}

func TestPagePassesLoadBalancerHealthChecks(t *testing.T) {
	o, err := StartPage("maintenance", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	req, _ := http.NewRequest("GET", "http://"+o.Addr()+"/", nil)
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("health check got %d, want 200", resp.StatusCode)
	}
}
