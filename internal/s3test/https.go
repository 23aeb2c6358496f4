package s3test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/flow-cwl/flow/internal/testenv"
)

// HTTPS starts an HTTPS server on 127.0.0.1 whose certificate is signed
// by a CA made for this test, and returns it with the CA's PEM file: a
// client trusts the server only if it is told to trust that file.
func HTTPS(t testing.TB, h http.Handler) (*httptest.Server, string) {
	t.Helper()
	pki := testenv.NewPKI(t, "127.0.0.1", "localhost")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pki.Write(t, caFile, "", "")
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.Cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, caFile
}
