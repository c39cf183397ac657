// Package bridge is the host-rewrite reverse proxy behind `cutover bridge`.
//
// During a CloudFront to CloudFront move the public name (cdn.example.com)
// cannot be an alternate domain name of both distributions at once. The
// bridge accepts requests for the public name, rewrites Host and the upstream
// TLS server name to a name the new distribution already owns
// (cdn-new.example.com) and forwards them to that distribution, so weighted
// DNS can shift traffic from the old distribution to the bridge and later
// from the bridge to the new distribution directly.
//
// The bridge is deliberately not a general proxy: a request whose Host matches
// no configured route is answered 421 and never forwarded, CONNECT and
// absolute-form requests for other hosts are refused, and requests with
// ambiguous framing (Content-Length together with Transfer-Encoding, repeated
// Content-Length, a malformed chunked body) are rejected before anything
// reaches an upstream.
//
// Forwarding takes one of two paths. The common request (no body or a small
// one with Content-Length, no upgrade, no Expect) goes over a pooled
// HTTP/1.1 upstream connection on the handler's own goroutine, with the
// response head parsed straight into the client's header map. Upgrades
// (WebSocket), chunked or large uploads and Expect: 100-continue go through
// httputil.ReverseProxy and net/http's Transport. Both paths rewrite and
// strip the same headers and report to the same passive health.
//
// On both listeners the bridge reads client requests with its own small
// HTTP/1.1 keep-alive loop (fast.go) rather than net/http's server, which
// costs a context, a background read and a header clone per request. The
// loop accepts only unremarkable request heads; any other request
// (upgrades, chunked or large uploads, Expect, absolute-form targets,
// HTTP/1.0, oversized or unusual heads) moves its connection, bytes already
// read included, to a net/http server behind the framing guard. The HTTPS
// listener completes each TLS handshake on a goroutine of its own
// (certificate by SNI); HTTP/2 connections go to net/http, HTTP/1.1
// connections to the loops like plain ones.
//
// On Linux, epoll event loops (one per GOMAXPROCS and listener,
// evloop_linux.go) sit in front of that loop: they read each connection
// only when it is readable instead of parking a goroutine per blocking
// read, which is what brings the bridge level with nginx and HAProxy in
// bench/bridge. A loop relays the common exchange itself: a request the
// goroutine loop would accept, whose body is already buffered, to a plain
// or HTTPS upstream, answered with a head and Content-Length body within
// 64 KiB. TLS on the loops is crypto/tls over a transport that hands it the
// bytes the loop read and collects the records it writes (tlsconn.go):
// handshakes (upstream ones with the rewritten name as server name, full
// verification and session resumption) run on goroutines, records are
// sealed and opened on the loop. Anything else is passed on with the bytes
// read so far: the connection (with its TLS state) to the goroutine loop,
// or a running exchange (chunked, large, interim or close-delimited
// responses) with both its connections, finished there. The loops use the
// same parser, routing checks, request writer, response parser and
// response writer as the goroutine loop, so the answers do not depend on
// which one served them.
//
// State is per instance: a Server owns its routing table, which Reload swaps
// atomically, and every Upstream owns its passive health (healthy until
// proven otherwise, down for a cooldown after consecutive failures).
package bridge
