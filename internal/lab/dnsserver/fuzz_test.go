package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// FuzzReply feeds arbitrary wire messages to the handler: whatever a
// client sends, the server must answer without panicking, with a reply
// that packs.
func FuzzReply(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"www.example.com.", dns.TypeA},
		{"cdn.example.com.", dns.TypeTXT},
		{`a\032b.wild.example.com.`, dns.TypeA},
		{"d111.cloudfront.net.", dns.TypeAAAA},
		{"loop.example.com.", dns.TypeANY},
	} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.qtype)
		m.SetEdns0(1232, false)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	f.Fuzz(func(t *testing.T, wire []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(wire); err != nil {
			return
		}
		resp := s.Reply(req)
		resp.Truncate(dns.MinMsgSize)
		if _, err := resp.Pack(); err != nil {
			t.Fatalf("reply to %v does not pack: %v", req, err)
		}
	})
}
