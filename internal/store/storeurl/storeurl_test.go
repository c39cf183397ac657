package storeurl

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
)

func TestParse(t *testing.T) {
	good := map[string]Spec{
		"":                      {Kind: "bolt"},
		"/var/lib/cutover/s.db": {Kind: "bolt", Path: "/var/lib/cutover/s.db"},
		"bolt:///tmp/s.db":      {Kind: "bolt", Path: "/tmp/s.db"},
		"etcd://127.0.0.1:2379": {Kind: "etcd", Endpoints: []string{"127.0.0.1:2379"}},
		"etcd://h1:2379,h2:2379,h3:2379/team-a": {Kind: "etcd",
			Endpoints: []string{"h1:2379", "h2:2379", "h3:2379"}, Prefix: "/team-a/"},
		"etcd://[::1]:2379/a/b/": {Kind: "etcd", Endpoints: []string{"[::1]:2379"}, Prefix: "/a/b/"},
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"etcd://", "etcd://h1", "etcd://h1:2379,", "etcd://root:pw@h1:2379", "consul://h:8500"} {
		if _, err := Parse(in); !errors.Is(err, ErrSpec) {
			t.Errorf("Parse(%q) error %v, want ErrSpec", in, err)
		}
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	t.Setenv(EnvUser, "ops:s3cret")
	t.Setenv(EnvPassword, "ignored")
	var s Spec
	s.CredentialsFromEnv()
	if s.Username != "ops" || s.Password != "s3cret" {
		t.Fatalf("user:password form gave %q/%q", s.Username, s.Password)
	}
	t.Setenv(EnvUser, "ops")
	s = Spec{}
	s.CredentialsFromEnv()
	if s.Username != "ops" || s.Password != "ignored" {
		t.Fatalf("user + password form gave %q/%q", s.Username, s.Password)
	}
}

func TestOpenBadTLS(t *testing.T) {
	_, err := Open(context.Background(), Spec{Kind: "etcd", Endpoints: []string{"127.0.0.1:1"}, Cert: "only-cert.pem"})
	if !errors.Is(err, ErrSpec) {
		t.Fatalf("cert without key: %v, want ErrSpec", err)
	}
	_, err = Open(context.Background(), Spec{Kind: "etcd", Endpoints: []string{"127.0.0.1:1"}, CACert: filepath.Join(t.TempDir(), "missing.pem")})
	if !errors.Is(err, ErrSpec) {
		t.Fatalf("missing CA file: %v, want ErrSpec", err)
	}
}

func TestOpenEach(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	spec, _ := Parse(path)
	s, err := Open(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*boltstore.Store); !ok {
		t.Fatalf("Open(%q) = %T, want a bbolt store", path, s)
	}
	s.Close()

	c := etcdtest.Start(t, 1)
	u := "etcd://" + c.Members[0].ClientURL[len("http://"):] + "/team-a"
	spec, err = Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, spec)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	defer s.Close()
	if _, err := s.CreateRun(ctx, store.Run{Name: "r1", Hostname: "www.example.com"}); err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, "/team-a/runs/r1")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("the run is not under the URL's prefix: %v, %v", resp, err)
	}
}

// TestOpenEtcdTLSAndAuth: a member that serves clients over TLS with client
// certificates required, and has etcd auth enabled, is reached with
// --etcd-cacert/--etcd-cert/--etcd-key and ETCDCTL_USER, as etcdctl would;
// without the password the store does not open.
func TestOpenEtcdTLSAndAuth(t *testing.T) {
	ctx := context.Background()
	certs := etcdtest.NewCerts(t)
	c := etcdtest.StartWith(t, 1, etcdtest.Options{TLS: certs})
	admin, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), TLS: certs.ClientConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "root-pw"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enabling etcd auth: %v", err)
		}
	}
	u := "etcd://" + strings.TrimPrefix(c.Endpoints()[0], "https://") + "/secure"
	spec, err := Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	spec.CACert, spec.Cert, spec.Key = certs.CA, certs.ClientCert, certs.ClientKey

	t.Setenv(EnvUser, "root")
	t.Setenv(EnvPassword, "wrong")
	bad := spec
	bad.CredentialsFromEnv()
	if s, err := Open(ctx, bad); err == nil {
		s.Close()
		t.Fatal("opened with a wrong password")
	}

	t.Setenv(EnvUser, "root:root-pw")
	spec.CredentialsFromEnv()
	s, err := Open(ctx, spec)
	if err != nil {
		t.Fatalf("Open over TLS with auth: %v", err)
	}
	defer s.Close()
	if _, err := s.CreateRun(ctx, store.Run{Name: "r1", Hostname: "www.example.com"}); err != nil {
		t.Fatalf("CreateRun over TLS with auth: %v", err)
	}
	if _, err := s.Acquire(ctx, "www.example.com", "ctl:1", time.Minute); err != nil {
		t.Fatalf("Acquire over TLS with auth: %v", err)
	}
}
