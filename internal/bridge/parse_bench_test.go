package bridge

import (
	"bufio"
	"bytes"
	"testing"
)

// A request head and a response head of the usual size and shape: the
// per-request cost of the plain loops' own parsers.
const (
	benchRequestHead = "GET /assets/app.js?v=3 HTTP/1.1\r\nHost: cdn.example.com\r\nUser-Agent: bench/1.0\r\n" +
		"Accept: */*\r\nAccept-Encoding: gzip, br\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n"
	benchResponseHead = "HTTP/1.1 200 OK\r\nContent-Type: application/javascript\r\nContent-Length: 1234\r\n" +
		"Cache-Control: max-age=60\r\nEtag: \"v3\"\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nConnection: keep-alive\r\n\r\n"
)

func BenchmarkBuildRequest(b *testing.B) {
	fc := &fastConn{}
	head := []byte(benchRequestHead)
	b.ReportAllocs()
	for b.Loop() {
		if err := fc.buildRequest(head); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadResponseHead(b *testing.B) {
	head := []byte(benchResponseHead)
	var r bytes.Reader
	br := bufio.NewReaderSize(&r, ioBufSize)
	var w fastWriter
	w.reset(nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(head)
		br.Reset(&r)
		clear(w.header)
		if _, err := readResponseHead(br, w.header, "GET", w.values[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseResponseHead(b *testing.B) {
	head := []byte(benchResponseHead)
	var w fastWriter
	w.reset(nil, nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		if _, _, err := parseResponseHead(head, w.header, "GET", w.values[:]); err != nil {
			b.Fatal(err)
		}
	}
}
