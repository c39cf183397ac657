package dnsquery

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// server answers www.example.com. A with ten addresses: over UDP it sends
// only the header with TC set, over TCP the whole set.
type server struct {
	addr     string
	udp, tcp atomic.Int32
}

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = r.RecursionDesired
		if _, isUDP := w.RemoteAddr().(*net.UDPAddr); isUDP {
			s.udp.Add(1)
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		s.tcp.Add(1)
		for i := range 10 {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A:   net.IPv4(192, 0, 2, byte(i+1)),
			})
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

func TestTruncatedUDPAnswerIsAskedAgainOverTCP(t *testing.T) {
	s := startServer(t)
	msg, err := Exchange(context.Background(), s.addr, "www.example.com", dns.TypeA, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Truncated || len(msg.Answer) != 10 {
		t.Fatalf("tc=%v answers=%d, want the whole set from TCP", msg.Truncated, len(msg.Answer))
	}
	if s.udp.Load() != 1 || s.tcp.Load() != 1 {
		t.Fatalf("udp=%d tcp=%d exchanges, want one of each", s.udp.Load(), s.tcp.Load())
	}
	if !msg.RecursionAvailable {
		t.Fatal("the query did not ask for recursion")
	}
}

func TestTCPFailureAfterTruncationIsReported(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Truncated = true
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	// Nothing listens on TCP at this port: the retry must fail, and say so.
	_, err = Exchange(context.Background(), pc.LocalAddr().String(), "www.example.com.", dns.TypeA, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "over TCP") {
		t.Fatalf("err = %v, want the TCP retry's failure", err)
	}
}

func TestUDPFailureIsReturned(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Exchange(ctx, "127.0.0.1:9", "www.example.com.", dns.TypeA, 100*time.Millisecond); err == nil {
		t.Fatal("a cancelled exchange succeeded")
	}
}
