package server

import (
	"net/http"
	"strings"

	"github.com/flow-cwl/flow/server/web"
)

// routeWeb serves the web interface (package web) on the API's listener:
// its page at /, its files under /ui/. It is one more client of the API.
func (s *Server) routeWeb(mux *http.ServeMux) {
	s.routeWebAPI(mux)
	ui := web.Handler()
	mux.Handle("GET /{$}", ui)
	mux.Handle("GET /ui/", ui)
}

// securityHeaders guards every answer of the daemon, now that a browser
// holds a session for it: nothing it serves may be framed by another
// site, sniffed into a type it was not sent as, or (for the API: output
// files and logs are the runs' own bytes, an HTML file among them) run
// scripts with the daemon's origin. The web interface's own files set a
// policy of their own (package web).
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		if !strings.HasPrefix(r.URL.Path, "/ui/") && r.URL.Path != "/" {
			hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
		}
		h.ServeHTTP(w, r)
	})
}
