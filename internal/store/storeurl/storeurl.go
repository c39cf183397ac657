// Package storeurl opens the run store a controller is told to use: the
// bbolt file by default, or an etcd cluster shared by several controllers,
// named by a URL-like string ("etcd://h1:2379,h2:2379,h3:2379/prefix/").
package storeurl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/store/etcdstore"
)

// The environment variables that carry etcd credentials, as etcdctl reads
// them: ETCDCTL_USER is "name" or "name:password", ETCDCTL_PASSWORD the
// password when the user has none. Credentials never go into the URL, which
// ends up in process lists and shell history.
const (
	EnvUser     = "ETCDCTL_USER"
	EnvPassword = "ETCDCTL_PASSWORD"
)

// Spec says which store to open.
type Spec struct {
	// Kind is "bolt" or "etcd".
	Kind string `json:"kind"`
	// Path is the bbolt file (Kind bolt); store.DefaultPath() when empty.
	Path string `json:"path,omitempty"`
	// Endpoints are the etcd members' client URLs (Kind etcd).
	Endpoints []string `json:"endpoints,omitempty"`
	// Prefix is the etcd key prefix; etcdstore.DefaultPrefix when empty.
	Prefix string `json:"prefix,omitempty"`
	// CACert, Cert and Key are PEM files for TLS to etcd (etcdctl's
	// --cacert, --cert, --key). Any of them switches the endpoints to https.
	CACert string `json:"cacert,omitempty"`
	Cert   string `json:"cert,omitempty"`
	Key    string `json:"key,omitempty"`
	// Username and Password authenticate to etcd; see EnvUser.
	Username string `json:"username,omitempty"`
	Password string `json:"-"`
}

// ErrSpec marks a store URL or option that cannot be used: the caller's
// input is wrong, nothing was opened.
var ErrSpec = errors.New("bad store")

// Parse reads a store URL: "" (the default bbolt file), a path or
// "bolt://PATH" (a bbolt file), or "etcd://HOST:PORT[,HOST:PORT...][/PREFIX]"
// (the members are reached over https when a TLS file is set, see Spec).
func Parse(raw string) (Spec, error) {
	switch {
	case raw == "":
		return Spec{Kind: "bolt"}, nil
	case strings.HasPrefix(raw, "bolt://"):
		return Spec{Kind: "bolt", Path: strings.TrimPrefix(raw, "bolt://")}, nil
	case strings.HasPrefix(raw, "etcd://"):
		return parseEtcd(strings.TrimPrefix(raw, "etcd://"))
	case strings.Contains(raw, "://"):
		return Spec{}, fmt.Errorf("store %q: unknown scheme (want a file path, bolt://PATH or etcd://HOST:PORT,...): %w", raw, ErrSpec)
	}
	return Spec{Kind: "bolt", Path: raw}, nil
}

func parseEtcd(rest string) (Spec, error) {
	hosts, prefix, _ := strings.Cut(rest, "/")
	spec := Spec{Kind: "etcd"}
	if prefix != "" {
		spec.Prefix = "/" + strings.TrimSuffix(prefix, "/") + "/"
	}
	for _, h := range strings.Split(hosts, ",") {
		if strings.Contains(h, "@") {
			return Spec{}, fmt.Errorf("store etcd://%s: credentials do not go in the URL; set %s (and %s): %w", rest, EnvUser, EnvPassword, ErrSpec)
		}
		if _, port, err := net.SplitHostPort(h); err != nil || port == "" {
			return Spec{}, fmt.Errorf("store etcd://%s: member %q is not HOST:PORT: %w", rest, h, ErrSpec)
		}
		spec.Endpoints = append(spec.Endpoints, h)
	}
	return spec, nil
}

// CredentialsFromEnv fills Username and Password from EnvUser and
// EnvPassword when they are set.
func (s *Spec) CredentialsFromEnv() {
	user := os.Getenv(EnvUser)
	if user == "" {
		return
	}
	name, pass, ok := strings.Cut(user, ":")
	s.Username = name
	if ok {
		s.Password = pass
	} else {
		s.Password = os.Getenv(EnvPassword)
	}
}

// tlsConfig builds the client TLS configuration, or nil without TLS files.
func (s Spec) tlsConfig() (*tls.Config, error) {
	if s.CACert == "" && s.Cert == "" && s.Key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CACert != "" {
		pem, err := os.ReadFile(s.CACert)
		if err != nil {
			return nil, fmt.Errorf("etcd CA certificate: %w: %w", err, ErrSpec)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("etcd CA certificate %s: no PEM certificate in it: %w", s.CACert, ErrSpec)
		}
		cfg.RootCAs = pool
	}
	if (s.Cert == "") != (s.Key == "") {
		return nil, fmt.Errorf("etcd client certificate: give both --etcd-cert and --etcd-key: %w", ErrSpec)
	}
	if s.Cert != "" {
		pair, err := tls.LoadX509KeyPair(s.Cert, s.Key)
		if err != nil {
			return nil, fmt.Errorf("etcd client certificate: %w: %w", err, ErrSpec)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// Open opens the store spec names.
func Open(ctx context.Context, spec Spec) (store.Store, error) {
	switch spec.Kind {
	case "bolt", "":
		if spec.CACert != "" || spec.Cert != "" || spec.Key != "" {
			return nil, fmt.Errorf("etcd TLS options given for a bbolt state file: %w", ErrSpec)
		}
		s, err := boltstore.Open(spec.Path, boltstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("opening state %s: %w", spec.Path, err)
		}
		return s, nil
	case "etcd":
		cfg, err := spec.tlsConfig()
		if err != nil {
			return nil, err
		}
		scheme := "http://"
		if cfg != nil {
			scheme = "https://"
		}
		eps := make([]string, len(spec.Endpoints))
		for i, h := range spec.Endpoints {
			eps[i] = scheme + h
		}
		s, err := etcdstore.Open(ctx, etcdstore.Options{
			Endpoints: eps, TLS: cfg, Username: spec.Username, Password: spec.Password, Prefix: spec.Prefix,
		})
		if err != nil {
			return nil, fmt.Errorf("opening etcd store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("store kind %q: want bolt or etcd: %w", spec.Kind, ErrSpec)
}
