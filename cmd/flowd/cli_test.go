package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flowdToEnd runs the flowd binary to its end (killing it after 20 s, which
// no case here should reach) and returns its exit code and output.
func flowdToEnd(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "flowd"), args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("flowd %s was still running after 20 s (a daemon started?):\n%s", strings.Join(args, " "), e.String())
		return -1, o.String(), e.String()
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

// Help is help (stdout, exit 0); anything flowd cannot make sense of is
// one line and exit 2, and never a daemon started on the defaults.
func TestCommandLine(t *testing.T) {
	home := t.TempDir()
	env := []string{"XDG_DATA_HOME=" + home, "HOME=" + home}
	listen := "--listen=" + freeAddr(t) // should a case start a daemon after all, not on 8080
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--help"}, 0},
		{[]string{"-h"}, 0},
		{[]string{"help"}, 0},
		{[]string{"token", "--help"}, 0},
		{[]string{"token", "-h"}, 0},
		{[]string{"token", "create", "--help"}, 0},
		{[]string{"token"}, 2},
		{[]string{"token", "bogus"}, 2},
		{[]string{"token", "create", "stray", "--team", "t", "--role", "admin"}, 2},
		{[]string{"token", "create", "--team", "t", "--role", "admin", "stray"}, 2},
		{[]string{"token", "create", "--role", "admin"}, 2},
		{[]string{"token", "create", "--team", "t", "--role", "boss"}, 2},
		{[]string{"token", "create", "--nope"}, 2},
		{[]string{"bogus"}, 2},
		{[]string{"tokens", "create"}, 2},
		{[]string{listen, "stray"}, 2},
		{[]string{listen, "token", "create"}, 2},
		{[]string{"--nope"}, 2},
		{[]string{"--listen"}, 2},
	} {
		what := "flowd " + strings.Join(c.args, " ")
		code, stdout, stderr := flowdToEnd(t, env, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, code, c.code, stdout, stderr)
			continue
		}
		if c.code == 0 && (!strings.Contains(stdout, "Usage") || stderr != "") {
			t.Errorf("%s: help should be on stdout alone:\n%s---\n%s", what, stdout, stderr)
		}
		if c.code != 0 && (stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "flowd: ")) {
			t.Errorf("%s: want one line on stderr, got:\n%s---\n%s", what, stdout, stderr)
		}
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("a command that should do nothing made %s in the home directory", entries[0].Name())
	}
}
