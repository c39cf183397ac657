// Command upstream is the origin for the bridge benchmark: it answers the
// rewritten host with a fixed marker and every other Host with 421, so a
// proxy that forgot to rewrite Host fails the benchmark's check. With
// -tls-cert it serves HTTPS, as a CloudFront distribution does.
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18000", "listen address")
	host := flag.String("host", "cdn-new.example.com", "the only Host answered")
	marker := flag.String("marker", "ok-new-cdn", "response body")
	cert := flag.String("tls-cert", "", "serve HTTPS with this certificate (PEM) instead of HTTP")
	key := flag.String("tls-key", "", "the certificate's key (PEM)")
	flag.Parse()
	body := []byte(*marker + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hostOnly := r.Host
		if i := strings.LastIndexByte(hostOnly, ':'); i >= 0 {
			hostOnly = hostOnly[:i]
		}
		if hostOnly != *host {
			http.Error(w, "misdirected: "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(body)
	})
	if *cert != "" {
		log.Fatal(http.ListenAndServeTLS(*addr, *cert, *key, h))
	}
	log.Fatal(http.ListenAndServe(*addr, h))
}
