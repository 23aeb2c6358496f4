// Package web is flowd's web interface: a page and its ES modules,
// embedded in the binary, that a browser loads from the daemon's own
// listener and that talk to the daemon only through its API (/api/v1),
// as any other client does. Nothing is fetched from elsewhere: no CDN, no
// web fonts; the one library, dagre (graph layout), is vendored from npm
// at the version package-lock.json pins (see vendor_test.go).
//
// The page signs in by sending a token once for a session cookie (package
// server, session.go) and keeps nothing secret itself. Every text that
// comes from a run (names, file names, logs) is put in the page as text,
// never as markup, and the Content-Security-Policy allows no script but
// the daemon's own files, so that a hostile run cannot run script in a
// team member's browser.
//
// The source is in static/: index.html, app.css, and js/ (one module per
// page: runs, run, launch, lineage, systems, admin; dom.js builds
// elements, api.js calls the API).
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Policy is the Content-Security-Policy of the interface's files: scripts,
// styles and requests only from the daemon itself, no inline script or
// style, no plugins, never framed.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the page at / and its files under /ui/.
func Handler() http.Handler {
	sub, _ := fs.Sub(static, "static") // the directory is embedded: cannot fail
	files := http.StripPrefix("/ui/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", Policy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// The files change with the binary: the browser asks each time
		// (and gets 304 while nothing changed).
		h.Set("Cache-Control", "no-cache")
		if r.URL.Path == "/" {
			http.ServeFileFS(w, r, sub, "index.html")
			return
		}
		files.ServeHTTP(w, r)
	})
}
