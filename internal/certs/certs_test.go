package certs

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func TestLeavesVerifyAgainstTheCAAndAreCached(t *testing.T) {
	ca, err := New("test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Leaf("WWW.example.com", "www.example.com", "*.example.org")
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(c.Certificate[0])
	for _, name := range []string{"www.example.com", "a.example.org"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "other.example.net", Roots: ca.Pool}); err == nil {
		t.Fatal("a name the leaf does not carry verified")
	}
	again, _ := ca.Leaf("*.example.org", "www.example.com")
	if again != c {
		t.Fatal("the same set of names was signed twice")
	}
	certPEM, keyPEM, err := ca.LeafPEM("files.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.Leaf(); err == nil {
		t.Fatal("a leaf without names was signed")
	}
}
