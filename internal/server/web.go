package server

import (
	"embed"
	"io/fs"
	"net/http"
)

// assets is the dashboard: plain HTML, JavaScript and CSS, no build step
// and nothing loaded from outside the binary.
//
//go:embed web
var assets embed.FS

func dashboard() http.Handler {
	sub, err := fs.Sub(assets, "web")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
