package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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
	live := lastRun(t, db)
	if live.State != provenance.RunRunning {
		t.Fatalf("while flow runs, its run is %q, want running", live.State)
	}
	if r := flow(t, "run", "--db", db, "--resume", live.ID); r.code != 1 || !strings.Contains(r.stderr, "still running") {
		t.Errorf("resuming a run whose flow is alive: exit %d, %s; want a refusal", r.code, r.stderr)
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

// writeJob writes a job file naming `name` and the raw JSON value extra
// under "deep".
func writeJob(t *testing.T, path, name, extra string) {
	t.Helper()
	var b strings.Builder
	nameJS, _ := json.Marshal(name)
	b.WriteString(`{"name": `)
	b.Write(nameJS)
	if extra != "" {
		b.WriteString(`, "deep": ` + extra)
	}
	b.WriteString("}")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// One run given an input nested as deep as a job file may be must not
// keep flow runs or flow show from reading the database afterwards.
func TestDeepInputKeepsDatabaseReadable(t *testing.T) {
	dir := t.TempDir()
	db, job := filepath.Join(dir, "flow.db"), filepath.Join(dir, "deep.json")
	const depth = 9999 // the deepest a job file can be (the YAML reader stops at 10,000)
	writeJob(t, job, "deep", strings.Repeat("[", depth)+strings.Repeat("]", depth))
	for _, args := range [][]string{
		{"testdata/good/echo-inputs.cwl", "--name", "plain"},
		{"testdata/good/echo-inputs.cwl", job},
	} {
		r := flow(t, append([]string{"run", "--db", db, "--outdir", filepath.Join(dir, "out"), "--cache-dir", filepath.Join(dir, "cache")}, args...)...)
		if r.code != 0 {
			t.Fatalf("flow run %v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	r := flow(t, "runs", "-n", "100", "--db", db)
	if r.code != 0 || strings.Count(r.stdout, "succeeded") != 2 {
		t.Fatalf("flow runs -n 100 after a deeply nested input: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	id := lastRun(t, db).ID
	r = flow(t, "show", id, "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") {
		t.Fatalf("flow show of the deep run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = flow(t, "show", id, "-o", "json", "--db", db)
	if r.code != 0 || strings.Count(r.stdout, "[") < depth {
		t.Errorf("flow show -o json of the deep run: exit %d, %d brackets, want its inputs whole; %s", r.code, strings.Count(r.stdout, "["), r.stderr)
	}
}

// A 50 MB string input grows flow.db by about 50 MB, however many times
// the run, its job and its outputs repeat it.
func TestLargeInputGrowsDatabaseOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs flow on a 50 MB input")
	}
	dir := t.TempDir()
	db, job := filepath.Join(dir, "flow.db"), filepath.Join(dir, "big.json")
	run := func(args ...string) {
		t.Helper()
		r := flow(t, append([]string{"run", "--db", db, "--outdir", filepath.Join(dir, "out"), "--cache-dir", filepath.Join(dir, "cache"), "testdata/good/echo-inputs.cwl"}, args...)...)
		if r.code != 0 {
			t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
		}
	}
	run("--name", "small")
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	const size = 50 << 20
	writeJob(t, job, randomText(t, size), "")
	run(job)
	after, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	grew := after.Size() - before.Size()
	t.Logf("flow.db: %.1f MB before, %.1f MB after a run with a %d MB input", float64(before.Size())/(1<<20), float64(after.Size())/(1<<20), size>>20)
	if grew > size*11/10+(2<<20) {
		t.Errorf("a %d MB input grew flow.db by %.1f MB; want about its size", size>>20, float64(grew)/(1<<20))
	}
	start := time.Now()
	r := flow(t, "runs", "-n", "100", "--db", db)
	if r.code != 0 {
		t.Fatalf("flow runs: exit %d: %s", r.code, r.stderr)
	}
	t.Logf("flow runs -n 100 took %s (the whole process)", time.Since(start))
}

// randomText is n bytes of incompressible printable text.
func randomText(t *testing.T, n int) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	for i, c := range b {
		b[i] = alphabet[c&63]
	}
	return string(b)
}

// A step whose when is false is recorded as skipped: flow show lists it,
// and the log does not call it done.
func TestSkippedStepIsRecorded(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flow.db")
	r := flow(t, "run", "--db", db, "--outdir", filepath.Join(dir, "out"), "--cache-dir", filepath.Join(dir, "cache"),
		"testdata/good/when.cwl", "--msg", "hi")
	if r.code != 0 {
		t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
	}
	for _, l := range stderrLines(r.stderr) {
		if strings.Contains(l, "step done") && strings.Contains(l, "skip") {
			t.Errorf("the skipped step is logged as done: %s", l)
		}
	}
	show := flow(t, "show", lastRun(t, db).ID, "-o", "json", "--db", db)
	var got struct{ Steps []provenance.Attempt }
	if err := json.Unmarshal([]byte(show.stdout), &got); err != nil {
		t.Fatalf("flow show -o json: %v\n%s%s", err, show.stdout, show.stderr)
	}
	states := map[string]provenance.StepState{}
	for _, a := range got.Steps {
		states[a.StepID] = a.State
	}
	if states["say"] != provenance.StepSucceeded || states["skip"] != provenance.StepSkipped {
		t.Errorf("flow show records the steps as %v; want say succeeded and skip skipped", states)
	}
	text := flow(t, "show", lastRun(t, db).ID, "--db", db)
	if !regexp.MustCompile(`(?m)^main/skip\s+skipped\s`).MatchString(text.stdout) && !regexp.MustCompile(`(?m)^skip\s+skipped\s`).MatchString(text.stdout) {
		t.Errorf("flow show does not list the skipped step:\n%s", text.stdout)
	}
}

// A relative --db keeps the cache beside the database, wherever jobs run.
func TestRelativeDatabasePath(t *testing.T) {
	dir := t.TempDir()
	wf, err := filepath.Abs("testdata/good/hello.cwl")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	r := flow(t, "run", "--db", "flow.db", "--outdir", "out", wf, "--msg", "hi")
	if r.code != 0 {
		t.Fatalf("flow run --db flow.db: exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache")); err != nil {
		t.Errorf("the cache is not beside the database: %v", err)
	}
}

// A run record that cannot be decoded is listed by its id as damaged; the
// other runs are listed and shown as ever.
func TestRunsListsDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "flow.db")
	r := flow(t, "run", "--db", db, "--outdir", filepath.Join(dir, "out"), "--cache-dir", filepath.Join(dir, "cache"), "testdata/good/hello.cwl", "--msg", "hi")
	if r.code != 0 {
		t.Fatalf("flow run: exit %d: %s", r.code, r.stderr)
	}
	good := lastRun(t, db).ID
	bad := good[:len(good)-1] + "~" // sorts after good: the newest
	bdb, err := bolt.Open(db, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("runs")).Put([]byte(bad), []byte(`{"id": "`+bad+`", "inputs": {"x": `+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}}`))
	})
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	r = flow(t, "runs", "-n", "100", "--db", db)
	if r.code != 0 || !strings.Contains(r.stdout, good) || !strings.Contains(r.stdout, "run "+bad+": damaged: ") {
		t.Errorf("flow runs beside a damaged record: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := flow(t, "show", good, "--db", db); r.code != 0 {
		t.Errorf("flow show of a sound run beside a damaged one: exit %d: %s", r.code, r.stderr)
	}
	r = flow(t, "show", bad, "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "damaged") || len(stderrLines(r.stderr)) != 1 {
		t.Errorf("flow show of the damaged record: exit %d, stderr %q; want one line saying it is damaged", r.code, r.stderr)
	}
}
