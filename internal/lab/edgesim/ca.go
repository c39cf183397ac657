package edgesim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"
	"time"
)

// authority is the lab CA: it signs one leaf per set of names, on demand.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "cutover lab CA", Organization: []string{"cutover lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
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
	return &authority{
		cert: cert, key: key,
		pem:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		leaves: map[string]*tls.Certificate{},
	}, nil
}

// leaf returns a certificate for names, signing it the first time.
func (a *authority) leaf(names []string) (*tls.Certificate, error) {
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
	if len(uniq) == 0 {
		return nil, fmt.Errorf("signing leaf: no names")
	}
	key := strings.Join(uniq, ",")
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[key]; ok {
		return c, nil
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating leaf key: %w", err)
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
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &priv.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("signing leaf for %s: %w", key, err)
	}
	c := &tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: priv}
	a.leaves[key] = c
	return c, nil
}

// defaultName is CloudFront's default certificate name.
const defaultName = "*.cloudfront.net"

// certificateFor picks the certificate an edge presents for an SNI name:
// the distribution matched like a request (exact alias, wildcard, own
// name) on that edge's configuration, else a load balancer's name, else
// CloudFront's default *.cloudfront.net certificate (which then fails the
// client's name check, as with CloudFront). A load balancer's own address
// presents a certificate for whatever name was asked: the lab does not
// model ALB listener certificates.
func (s *Sim) certificateFor(w where, sni string) (*tls.Certificate, error) {
	host := normHost(sni)
	if w.lb != "" {
		if host == "" {
			s.mu.Lock()
			if lb := findLBByARN(s.lbs, w.lb); lb != nil {
				host = normHost(lb.DNSName)
			}
			s.mu.Unlock()
		}
		if host == "" {
			host = "elb.amazonaws.com"
		}
		return s.ca.leaf([]string{host})
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	v := match(s.viewsLocked(w.edge, now), host)
	var names []string
	if v == nil && host != "" && findLB(s.lbs, host) != nil {
		names = []string{host}
	}
	s.mu.Unlock()
	if v != nil {
		names = s.certNames(v)
	}
	if names == nil {
		names = []string{defaultName}
	}
	return s.ca.leaf(names)
}
