package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A damaged flowd.db stops flowd before it listens: one line, exit 1, no
// panic. An empty one is refused too, unless --init.
func TestDamagedDatabaseStopsFlowd(t *testing.T) {
	d := newDaemon(t)
	d.token("genomics", "admin")
	good, err := os.ReadFile(filepath.Join(d.dataDir, "flowd.db"))
	if err != nil {
		t.Fatal(err)
	}
	garbled := append([]byte{}, good...)
	for i := 2 * 4096; i < len(garbled); i++ {
		garbled[i] = byte(i * 7)
	}
	headless := append(make([]byte, 2*4096), good[2*4096:]...)
	for _, c := range []struct {
		what, want string
		data       []byte
		extra      []string
	}{
		{"truncated", "damaged", good[:3*4096], nil},
		{"garbled", "damaged", garbled, nil},
		{"headers zeroed", "damaged", headless, nil},
		{"empty", "--init", []byte{}, nil},
		{"truncated, with --init", "damaged", good[:3*4096], []string{"--init"}},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "flowd.db"), c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		addr := freeAddr(t)
		args := append([]string{"--listen", addr, "--data-dir", dir}, c.extra...)
		code, stdout, stderr := flowdToEnd(t, nil, args...)
		t.Logf("%s: %s", c.what, stderr)
		if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) || strings.Contains(stderr, "panic") || stdout != "" {
			t.Errorf("%s: exit %d, want 1 and one line saying %q:\n%s%s", c.what, code, c.want, stdout, stderr)
		}
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			t.Errorf("%s: something listens on %s", c.what, addr)
		}
		// Making a token offline opens the same file.
		code, stdout, stderr = flowdToEnd(t, nil, "token", "create", "--team", "t", "--role", "admin", "--data-dir", dir)
		if code != 1 || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "panic") || stdout != "" {
			t.Errorf("%s: flowd token create: exit %d, want 1 and one line:\n%s%s", c.what, code, stdout, stderr)
		}
	}

	// --init makes a new database in an empty file.
	e := newDaemon(t, "--init")
	if err := os.MkdirAll(e.dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dataDir, "flowd.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	if status, _ := e.request("GET", "/healthz", "", nil, ""); status != 200 {
		t.Errorf("flowd --init on an empty flowd.db: %d", status)
	}
}
