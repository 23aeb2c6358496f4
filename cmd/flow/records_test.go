package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flow-cwl/flow/provenance"
)

// lastRun is the newest run in the database at db, as `flow runs -o json`
// reports it.
func lastRun(t *testing.T, db string) provenance.Run {
	t.Helper()
	r := flow(t, "runs", "-o", "json", "-n", "1", "--db", db)
	if r.code != 0 {
		t.Fatalf("flow runs: exit %d: %s", r.code, r.stderr)
	}
	var runs []provenance.Run
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("flow runs -o json gave %q (%v), want one run", r.stdout, err)
	}
	return runs[0]
}

// A flow killed with kill -9 cannot record its end; readers must still not
// show its run as running.
func TestKilledRunShowsDied(t *testing.T) {
	dir := t.TempDir()
	db, pidfile := filepath.Join(dir, "flow.db"), filepath.Join(dir, "job.pid")
	cmd := exec.Command(flowBin, "run", "--db", db, "--outdir", filepath.Join(dir, "out"),
		"--cache-dir", filepath.Join(dir, "cache"), "testdata/good/sleep.cwl", "--pidfile", pidfile)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if data, err := os.ReadFile(pidfile); err == nil && strings.HasSuffix(string(data), "\n") {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the job never started")
		}
	}
	if got := lastRun(t, db); got.State != provenance.RunRunning {
		t.Fatalf("while flow runs, its run is %q, want running", got.State)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	run := lastRun(t, db)
	if run.State != provenance.RunDied {
		t.Errorf("after kill -9, flow runs -o json says %q, want died", run.State)
	}
	resume := "flow run --resume " + run.ID
	r := flow(t, "runs", "--db", db)
	if !strings.Contains(r.stdout, " died ") || !strings.Contains(r.stdout, resume) {
		t.Errorf("flow runs after kill -9 does not say died with %q:\n%s", resume, r.stdout)
	}
	r = flow(t, "show", run.ID, "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "died") || !strings.Contains(r.stdout, resume) {
		t.Errorf("flow show after kill -9 (exit %d) does not say died with %q:\n%s%s", r.code, resume, r.stdout, r.stderr)
	}
}

// `flow run ... 2>&1 | head -1`: once the reader is gone, every write flow
// makes to stdout or stderr meets a closed pipe. The run must go on.
func TestClosedPipeDoesNotKillRun(t *testing.T) {
	dir := t.TempDir()
	db, out := filepath.Join(dir, "flow.db"), filepath.Join(dir, "out")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close() // the reader has gone before flow writes its first line
	cmd := exec.Command(flowBin, "run", "--db", db, "--outdir", out,
		"--cache-dir", filepath.Join(dir, "cache"), "testdata/good/hello.cwl", "--msg", "hi")
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Run()
	pw.Close()
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, _ := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
			t.Fatalf("flow died of %s writing to a closed pipe", ws.Signal())
		}
	}
	if data, err := os.ReadFile(filepath.Join(out, "hello.txt")); err != nil || string(data) != "hi\n" {
		t.Errorf("the output in --outdir: %q, %v; want \"hi\\n\"", data, err)
	}
	if run := lastRun(t, db); run.State != provenance.RunSucceeded || run.Finished.IsZero() {
		t.Errorf("the run is recorded %q (finished %v), want succeeded with its end", run.State, run.Finished)
	}

	// A listing whose reader went away (flow runs | head) ends quietly,
	// as it did when SIGPIPE ended it.
	if pr, pw, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	pr.Close()
	var stderr strings.Builder
	cmd = exec.Command(flowBin, "runs", "--db", db)
	cmd.Stdout, cmd.Stderr = pw, &stderr
	err = cmd.Run()
	pw.Close()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 141 || stderr.Len() > 0 {
		t.Errorf("flow runs into a closed pipe: %v, stderr %q; want exit 141 and nothing said", err, stderr.String())
	}
}
