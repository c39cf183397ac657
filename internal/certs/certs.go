// Package certs is a small private certificate authority: the lab's CA
// (edges present leaves it signs; clients trust its PEM) and the one tests
// use for their TLS servers.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"
)

// CA signs server certificates. It is safe for concurrent use.
type CA struct {
	// Cert is the CA certificate; PEM its encoding; Pool a pool holding it.
	Cert *x509.Certificate
	PEM  []byte
	Pool *x509.CertPool

	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

// New returns a CA named name, valid from an hour ago for validity.
func New(name string, validity time.Duration) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"cutover"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-signing CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing CA: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Pool: pool, key: key, leaves: map[string]*tls.Certificate{}}, nil
}

// Leaf returns a server certificate for names (lower-cased, deduplicated),
// signing it the first time a set of names is asked for. The chain carries
// the CA certificate.
func (ca *CA) Leaf(names ...string) (*tls.Certificate, error) {
	c, _, _, err := ca.leaf(names)
	return c, err
}

// LeafPEM returns a fresh certificate for names with its key, PEM-encoded,
// for servers configured by files.
func (ca *CA) LeafPEM(names ...string) (certPEM, keyPEM []byte, err error) {
	_, certPEM, keyPEM, err = ca.sign(names)
	return certPEM, keyPEM, err
}

func (ca *CA) leaf(names []string) (*tls.Certificate, []byte, []byte, error) {
	key := strings.Join(normalize(names), ",")
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.leaves[key]; ok {
		return c, nil, nil, nil
	}
	c, certPEM, keyPEM, err := ca.sign(names)
	if err != nil {
		return nil, nil, nil, err
	}
	ca.leaves[key] = c
	return c, certPEM, keyPEM, nil
}

func normalize(names []string) []string {
	set := map[string]bool{}
	var uniq []string
	for _, n := range names {
		n = strings.ToLower(n)
		if n != "" && !set[n] {
			set[n] = true
			uniq = append(uniq, n)
		}
	}
	sort.Strings(uniq)
	return uniq
}

func (ca *CA) sign(names []string) (*tls.Certificate, []byte, []byte, error) {
	uniq := normalize(names)
	if len(uniq) == 0 {
		return nil, nil, nil, errors.New("signing a leaf: no names")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating leaf key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: uniq[0]},
		DNSNames:     uniq,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(90 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &priv.PublicKey, ca.key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("signing leaf for %s: %w", strings.Join(uniq, ","), err)
	}
	kder, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encoding leaf key: %w", err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: priv}
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
