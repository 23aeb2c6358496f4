package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/internal/testenv"
)

// A team's daemon serves HTTPS with the certificate its configuration
// names. flow trusts it through the system's trust store (here
// SSL_CERT_FILE, as an administrator would install a site CA), and refuses
// a certificate it cannot verify with one line that says so.
func TestDaemonServesTLS(t *testing.T) {
	dir := t.TempDir()
	ca := writeTestPKI(t, dir)
	config := filepath.Join(dir, "flowd.yaml")
	writeFile(t, config, "tls_cert: "+filepath.Join(dir, "cert.pem")+"\ntls_key: "+filepath.Join(dir, "key.pem")+"\n")

	d := newDaemon(t, "--config", config)
	d.url = "https://" + freeAddr(t)
	d.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	tok := d.token("genomics", "operator")
	d.start()

	trusted := []string{"SSL_CERT_FILE=" + filepath.Join(dir, "ca.pem"), "FLOW_URL=" + d.url, "FLOW_TOKEN=" + tok}
	code, out, stderr := flow(t, trusted, "run", "--run_compute", "--quiet", "--outdir", filepath.Join(dir, "out"), exampleWorkflow, exampleInputs)
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "out")) {
		t.Fatalf("a run over HTTPS: exit %d\n%s\n%s\n%s", code, out, stderr, d.log.String())
	}

	other := t.TempDir() // a CA that did not sign the daemon's certificate
	writeTestPKI(t, other)
	untrusted := []string{"SSL_CERT_FILE=" + filepath.Join(other, "ca.pem"), "FLOW_URL=" + d.url, "FLOW_TOKEN=" + tok}
	code, _, stderr = flow(t, untrusted, "runs")
	if code == 0 || !strings.Contains(stderr, "certificate") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("flow runs against a certificate it cannot verify: exit %d, stderr:\n%s", code, stderr)
	}

	plain := []string{"FLOW_URL=" + strings.Replace(d.url, "https://", "http://", 1), "FLOW_TOKEN=" + tok}
	if code, _, stderr = flow(t, plain, "runs"); code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("flow runs over plain HTTP to an HTTPS daemon: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(d.log.String(), tok) {
		t.Error("the daemon's log holds the token")
	}
}

// A configuration that names a missing key stops flowd at start with one
// line naming the file, not a daemon that listens and fails every
// handshake.
func TestDaemonRefusesAMissingTLSKey(t *testing.T) {
	dir := t.TempDir()
	writeTestPKI(t, dir)
	config := filepath.Join(dir, "flowd.yaml")
	missing := filepath.Join(dir, "nokey.pem")
	writeFile(t, config, "tls_cert: "+filepath.Join(dir, "cert.pem")+"\ntls_key: "+missing+"\n")
	out, err := runFlowd(t, "--config", config, "--listen", freeAddr(t), "--data-dir", filepath.Join(dir, "data"))
	if err == nil || !strings.Contains(out, missing) || strings.Count(strings.TrimSpace(out), "\n") > 0 {
		t.Errorf("flowd with a missing TLS key: %v\n%s", err, out)
	}
}

// writeTestPKI writes ca.pem, and cert.pem and key.pem for 127.0.0.1
// signed by that CA, into dir, and returns the CA as a pool.
func writeTestPKI(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	pki := testenv.NewPKI(t, "127.0.0.1")
	pki.Write(t, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	return pki.Pool
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runFlowd runs flowd to its end (at most 15 s: one that serves is killed
// then) and returns what it printed.
func runFlowd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "flowd"), args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("flowd %v was still running after 15 s:\n%s", args, out)
	}
	return string(out), err
}
