package slurm

import (
	"bytes"
	"github.com/flow-cwl/flow/internal/shell"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// hostile are strings a workflow or its inputs could carry that would do
// something if a shell read them as code. Each must reach the task as it is.
func hostile(marker string) []string {
	return []string{
		"$(touch " + marker + ")", "`touch " + marker + "`", "'", `"`, `'\''`, "a\nb", "\n",
		"; touch " + marker, "&& touch " + marker, "| touch " + marker, "unicode ✓ 日本語", "", `\`, `\n`,
		"$HOME", "${PATH}", "'$(touch " + marker + ")'", "\nFLOW_EOF\ntouch " + marker + "\n", "--", "-n",
		"%j %a %%", "*", "~", "!!", "#SBATCH --wrap=touch " + marker, "a b\tc",
	}
}

func newTestExecutor(t *testing.T, opts Options) *Executor {
	t.Helper()
	if opts.Runner == nil {
		opts.Runner = LocalRunner{}
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// runJobScript renders the job script for tasks and runs it with bash, as
// Slurm would run it on a node (SLURM_ARRAY_TASK_ID picks the task of an
// array), without Slurm.
func runJobScript(t *testing.T, e *Executor, tasks []*executors.Task, index int) *submission {
	t.Helper()
	s, err := e.newSubmission(tasks, seq(len(tasks)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-c", e.jobScript(s))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "SLURM_ARRAY_TASK_ID=" + itoa(index)}
	cmd.Dir = filepath.Dir(s.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the job script failed: %v\n%s", err, out)
	}
	return s
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

func readExit(t *testing.T, s *submission, i int) exitRecord {
	t.Helper()
	b, err := os.ReadFile(s.files[i].Exit)
	if err != nil {
		t.Fatalf("no exit file: %v", err)
	}
	rec, err := parseExitLine(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestHostileStringsArriveLiterally runs a job script whose argv,
// environment, working directory and file names are all hostile, and
// checks that each arrives as written and that nothing ran.
func TestHostileStringsArriveLiterally(t *testing.T) {
	root := t.TempDir()
	marker := filepath.Join(root, "pwned")
	// A relative marker for the directory's name, which cannot hold a '/';
	// the script runs in root.
	dir := filepath.Join(root, "dir $(touch pwned) ' \" `touch pwned`")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	words := hostile(marker)
	tk := &executors.Task{
		ID:     "hostile/$(touch " + marker + ")\n'",
		Argv:   append([]string{"printf", `%s\0`}, words...),
		Env:    map[string]string{"PATH": "/usr/bin:/bin"},
		Dir:    dir,
		Stdout: "out $(touch pwned) '\n.txt",
	}
	for i, w := range words {
		tk.Env["V"+itoa(i)] = w
	}
	e := newTestExecutor(t, Options{Prologue: []string{"true prologue"}})
	s := runJobScript(t, e, []*executors.Task{tk}, 0)
	if rec := readExit(t, s, 0); rec.Kind != "exit" || rec.Status != 0 {
		t.Fatalf("the task ended %+v", rec)
	}
	out, err := os.ReadFile(filepath.Join(dir, tk.Stdout))
	if err != nil {
		t.Fatalf("stdout did not arrive under its hostile name: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, words) {
		t.Errorf("the task received\n  %q\nwant\n  %q", got, words)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a hostile string ran as code: %s exists", marker)
	}

	// The environment, through env -0.
	tk.Argv = []string{"env", "-0"}
	s = runJobScript(t, e, []*executors.Task{tk}, 0)
	out, _ = os.ReadFile(filepath.Join(dir, tk.Stdout))
	gotEnv := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	var wantEnv []string
	for k, v := range tk.Env {
		wantEnv = append(wantEnv, k+"="+v)
	}
	slices.Sort(gotEnv)
	slices.Sort(wantEnv)
	if !slices.Equal(gotEnv, wantEnv) {
		t.Errorf("the task's environment is\n  %q\nwant\n  %q", gotEnv, wantEnv)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("a hostile string ran as code: %s exists", marker)
	}
}

func TestQuote(t *testing.T) {
	for _, w := range hostile("/nonexistent/pwned") {
		out, err := exec.Command("bash", "-c", "printf '%s' "+shell.Quote(w)).Output()
		if err != nil || string(out) != w {
			t.Errorf("bash read %s as %q (%v), want %q", shell.Quote(w), out, err, w)
		}
	}
}

func TestJobScriptOutcomes(t *testing.T) {
	dir := t.TempDir()
	task := func(argv ...string) *executors.Task {
		return &executors.Task{ID: "t", Argv: argv, Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: dir}
	}
	slow := task("sleep", "10")
	slow.TimeLimit = 300 * time.Millisecond
	noPath := task("true")
	delete(noPath.Env, "PATH")
	missingDir := task("true")
	missingDir.Dir = filepath.Join(dir, "missing")
	tests := []struct {
		name   string
		task   *executors.Task
		kind   string
		status int
	}{
		{"exit", task("sh", "-c", "exit 3"), "exit", 3},
		{"exit 137 is an exit", task("sh", "-c", "exit 137"), "exit", 137},
		{"SIGKILL is a signal", task("sh", "-c", "kill -KILL $$"), "signal", 9},
		{"SIGTERM is a signal", task("sh", "-c", "kill -TERM $$"), "signal", 15},
		{"time limit", slow, "timeout", 124},
		{"exit 124 within the limit is an exit", func() *executors.Task {
			tk := task("sh", "-c", "exit 124")
			tk.TimeLimit = time.Minute
			return tk
		}(), "exit", 124},
		{"not found", task("flow-no-such-command"), "notfound", 127},
		{"not found by path", task("/nonexistent/flow"), "notfound", 127},
		{"no PATH", noPath, "notfound", 127},
		{"no directory", missingDir, "nodir", 1},
	}
	e := newTestExecutor(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			s := runJobScript(t, e, []*executors.Task{tt.task}, 0)
			rec := readExit(t, s, 0)
			if rec.Kind != tt.kind || rec.Status != tt.status {
				t.Errorf("exit record %s %d, want %s %d", rec.Kind, rec.Status, tt.kind, tt.status)
			}
			if rec.Started.Before(began.Add(-time.Second)) || rec.Finished.Before(rec.Started) || time.Since(rec.Finished) > time.Minute {
				t.Errorf("implausible times %v .. %v (test began %v)", rec.Started, rec.Finished, began)
			}
		})
	}
}

func TestArrayScriptPicksTaskByIndex(t *testing.T) {
	dir := t.TempDir()
	var tasks []*executors.Task
	for i := range 3 {
		tasks = append(tasks, &executors.Task{ID: "a/" + itoa(i), Argv: []string{"sh", "-c", "echo task " + itoa(i) + "; exit " + itoa(i)},
			Env: map[string]string{"PATH": "/usr/bin:/bin"}, Dir: dir, Stdout: "out" + itoa(i)})
	}
	e := newTestExecutor(t, Options{ArrayLimit: 2})
	s := runJobScript(t, e, tasks, 2)
	if rec := readExit(t, s, 2); rec.Kind != "exit" || rec.Status != 2 {
		t.Errorf("array index 2 ran %+v, want exit 2", rec)
	}
	for _, i := range []int{0, 1} {
		if _, err := os.Stat(s.files[i].Exit); err == nil {
			t.Errorf("array index 2 also ran task %d", i)
		}
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "out2")); string(out) != "task 2\n" {
		t.Errorf("task 2 wrote %q", out)
	}
	if !strings.Contains(e.jobScript(s), "#SBATCH --array=0-2%2\n") {
		t.Errorf("the array script has no --array=0-2%%2 line:\n%s", e.jobScript(s))
	}
}

func TestDirectives(t *testing.T) {
	e := newTestExecutor(t, Options{Partition: "debug", Account: "lab-1", QOS: "normal"})
	tk := &executors.Task{ID: "x", Argv: []string{"true"}, Dir: "/w/x", TimeLimit: 61 * time.Second,
		Resources: executors.Resources{Cores: 1.5, RAMMiB: 300, TmpdirMiB: 1024}}
	want := []string{"--cpus-per-task=2", "--mem=300M", "--tmp=1024M", "--time=2", "--partition=debug", "--account=lab-1", "--qos=normal"}
	if got := e.directives(tk); !slices.Equal(got, want) {
		t.Errorf("directives = %q, want %q", got, want)
	}
	bare := &executors.Task{ID: "y", Argv: []string{"true"}, Dir: "/w/y", TimeLimit: time.Second}
	if got := newTestExecutor(t, Options{}).directives(bare); !slices.Equal(got, []string{"--cpus-per-task=1", "--time=1"}) {
		t.Errorf("directives of a bare task = %q", got)
	}
}

func TestJobNamesAndDirectivesCannotInject(t *testing.T) {
	if got := jobName("flow", "my lab", "main/align/3\n#SBATCH --wrap=x"); got != "flow-my_lab-main_align_3__SBATCH_--wrap_x" {
		t.Errorf("jobName = %q", got)
	}
	for _, bad := range []string{"debug\n#SBATCH --wrap=x", "a b", "a'b", "a;b", "$(x)"} {
		if _, err := New(Options{Runner: LocalRunner{}, Partition: bad}); err == nil {
			t.Errorf("New accepted the partition %q", bad)
		}
		if _, err := New(Options{Runner: LocalRunner{}, Account: bad}); err == nil {
			t.Errorf("New accepted the account %q", bad)
		}
	}
	e := newTestExecutor(t, Options{NamePrefix: "p\nq"})
	tk := &executors.Task{ID: "id\n#SBATCH --wrap=touch /tmp/x", Argv: []string{"true"}, Dir: "/w/x"}
	s, err := e.newSubmission([]*executors.Task{tk}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	script := e.jobScript(s)
	for line := range strings.Lines(script) {
		if strings.HasPrefix(line, "#SBATCH") && strings.Contains(line, "wrap") && !strings.HasPrefix(line, "#SBATCH --job-name=") {
			t.Errorf("a task id injected an #SBATCH line: %q", line)
		}
	}
}

func TestPlanGroupsByResourcesAndSplitsArrays(t *testing.T) {
	e := newTestExecutor(t, Options{MaxArraySize: 2})
	var ts []*executors.Task
	for i := range 5 {
		ts = append(ts, &executors.Task{ID: "t" + itoa(i), Argv: []string{"true"}, Dir: "/w/" + itoa(i),
			Resources: executors.Resources{RAMMiB: int64(100 * (i % 2))}})
	}
	subs, order, err := e.plan(ts)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]int
	for i, s := range subs {
		got = append(got, order[i])
		if len(s.tasks) != len(order[i]) {
			t.Errorf("submission %d has %d tasks and %d indexes", i, len(s.tasks), len(order[i]))
		}
	}
	want := [][]int{{0, 2}, {4}, {1, 3}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("plan = %v, want %v", got, want)
	}
}

func TestSubmitScriptWritesTheJobScript(t *testing.T) {
	// A fake sbatch that records the script it was given.
	bin := t.TempDir()
	fake := "#!/bin/bash\nfor a; do last=$a; done\ncp -- \"$last\" " + shell.Quote(filepath.Join(bin, "submitted")) + "\necho 4242\n"
	if err := os.WriteFile(filepath.Join(bin, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newTestExecutor(t, Options{})
	tk := &executors.Task{ID: "t", Argv: hostile("/nonexistent/pwned"), Dir: filepath.Join(t.TempDir(), "work dir")}
	s, err := e.newSubmission([]*executors.Task{tk}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	out, err := LocalRunner{Env: []string{"PATH=" + bin + ":/usr/bin:/bin"}}.Run(t.Context(), e.submitScript(s))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := parseSbatch(out); err != nil || id != "4242" {
		t.Errorf("sbatch printed %q: %q, %v", out, id, err)
	}
	got, err := os.ReadFile(filepath.Join(bin, "submitted"))
	if err != nil || !bytes.Equal(got, []byte(e.jobScript(s))) {
		t.Errorf("the script on the cluster differs from the one rendered (%v)", err)
	}
	if filepath.Dir(s.script()) != filepath.Join(filepath.Dir(tk.Dir), ".flow-slurm") {
		t.Errorf("the job script is at %s, not beside the task's directory", s.script())
	}
}
