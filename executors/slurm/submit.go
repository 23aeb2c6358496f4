package slurm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/flow-cwl/flow/internal/shell"
	"path"
	"strings"
	"time"

	"github.com/flow-cwl/flow/executors"
)

// submission is one sbatch: a plain job for one task, or a job array.
type submission struct {
	name       string   // the job name
	directives []string // #SBATCH lines shared by all its tasks
	dir        string   // where the script, logs and exit files live
	prefix     string   // dir + "/" + a unique key; files are prefix.*
	tasks      []*executors.Task
	files      []taskFiles
}

func (s *submission) script() string { return s.prefix + ".sh" }

// log is Slurm's own output and error file for the job (not the task's).
func (s *submission) log() string {
	if len(s.tasks) > 1 {
		return escapePercent(s.prefix) + ".%a.log"
	}
	return escapePercent(s.prefix) + ".log"
}

// Start submits t as a plain batch job and returns once sbatch has
// accepted it. A command that does not exist is found by the job itself
// and reported by Wait.
func (e *Executor) Start(ctx context.Context, t *executors.Task) (*executors.Handle, error) {
	hs, err := e.StartBatch(ctx, []*executors.Task{t})
	if err != nil {
		return nil, err
	}
	return hs[0], nil
}

// StartBatch submits many tasks in as few sbatch calls as it can: tasks
// that ask for the same resources share a job array, split into arrays of
// at most MaxArraySize tasks. Handles come back in the order of ts. If a
// submission fails, the arrays already submitted keep running and are
// tracked (their handles are lost with the error, so this cancels them).
func (e *Executor) StartBatch(ctx context.Context, ts []*executors.Task) ([]*executors.Handle, error) {
	for _, t := range ts {
		if err := e.check(t); err != nil {
			return nil, err
		}
	}
	subs, order, err := e.plan(ts)
	if err != nil {
		return nil, err
	}
	handles := make([]*executors.Handle, len(ts))
	var submitted []*job
	for si, s := range subs {
		jobs, err := e.submit(ctx, s)
		if err != nil {
			for _, j := range submitted {
				e.cancelJob(context.WithoutCancel(ctx), j)
				e.forget(j)
			}
			return nil, err
		}
		submitted = append(submitted, jobs...)
		for i, j := range jobs {
			handles[order[si][i]] = j.handle()
		}
	}
	return handles, nil
}

// check rejects a task that cannot be run as written, with a sentence.
func (e *Executor) check(t *executors.Task) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if !path.IsAbs(t.Dir) {
		return fmt.Errorf("task %q has the working directory %q; the Slurm executor needs an absolute path on the cluster", t.ID, t.Dir)
	}
	if strings.Contains(t.Argv[0], "=") {
		return fmt.Errorf("task %q runs %q; the Slurm executor cannot run a command whose name contains '=' (env would read it as a variable)", t.ID, t.Argv[0])
	}
	for k, v := range t.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.Contains(v, "\x00") {
			return fmt.Errorf("task %q has the environment variable %q, which cannot be passed on (empty name, '=' in the name or a NUL byte)", t.ID, k)
		}
	}
	for _, a := range t.Argv {
		if strings.Contains(a, "\x00") {
			return fmt.Errorf("task %q has an argument with a NUL byte, which no command can receive", t.ID)
		}
	}
	return nil
}

// plan groups tasks by their #SBATCH lines and cuts each group into
// submissions of at most MaxArraySize. order[s][i] is the index in ts of
// task i of submission s.
func (e *Executor) plan(ts []*executors.Task) ([]*submission, [][]int, error) {
	var keys []string
	groups := map[string][]int{}
	for i, t := range ts {
		k := strings.Join(e.directives(t), "\n")
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	var subs []*submission
	var order [][]int
	for _, k := range keys {
		idx := groups[k]
		for len(idx) > 0 {
			n := min(len(idx), e.opts.MaxArraySize)
			s, err := e.newSubmission(ts, idx[:n])
			if err != nil {
				return nil, nil, err
			}
			subs, order = append(subs, s), append(order, idx[:n])
			idx = idx[n:]
		}
	}
	return subs, order, nil
}

func (e *Executor) newSubmission(ts []*executors.Task, idx []int) (*submission, error) {
	first := ts[idx[0]]
	key, err := uniqueKey(first.ID)
	if err != nil {
		return nil, err
	}
	s := &submission{
		name:       jobName("flow", e.opts.NamePrefix, first.ID),
		directives: e.directives(first),
		dir:        e.opts.StateDir,
	}
	if s.dir == "" {
		s.dir = path.Join(path.Dir(first.Dir), ".flow-slurm")
	}
	if len(idx) > 1 {
		s.name = jobName("flow", e.opts.NamePrefix, first.ID, fmt.Sprintf("and-%d-more", len(idx)-1))
	}
	s.prefix = path.Join(s.dir, key)
	for i, ti := range idx {
		s.tasks = append(s.tasks, ts[ti])
		s.files = append(s.files, filesFor(ts[ti], s.prefix, i))
	}
	return s, nil
}

// uniqueKey names a submission's files: readable, and unique even when
// many tasks share a directory.
func uniqueKey(taskID string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("cannot make a unique file name for task %q: %w", taskID, err)
	}
	name := jobName(taskID)
	if len(name) > 40 {
		name = name[:40]
	}
	return name + "-" + hex.EncodeToString(b[:]), nil
}

// submit writes the job script on the cluster and runs sbatch, in one
// Runner call, and starts tracking the job (or each array task).
func (e *Executor) submit(ctx context.Context, s *submission) ([]*job, error) {
	var out []byte
	err := e.retry(ctx, func() (err error) {
		out, err = e.command(ctx, e.submitScript(s))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("submitting task %q to Slurm: %w", s.tasks[0].ID, err)
	}
	id, err := parseSbatch(out)
	if err != nil {
		return nil, fmt.Errorf("submitting task %q to Slurm: %w", s.tasks[0].ID, err)
	}
	now := time.Now()
	jobs := make([]*job, len(s.tasks))
	for i, t := range s.tasks {
		st := jobState{
			Version: stateVersion, ExitFile: s.files[i].Exit, StderrFile: s.files[i].Stderr,
			Argv0: t.Argv[0], Log: strings.ReplaceAll(s.log(), "%a", fmt.Sprint(i)), Submitted: now,
		}
		st.JobID = id
		if len(s.tasks) > 1 {
			st.JobID = fmt.Sprintf("%s_%d", id, i)
		}
		jobs[i] = e.track(t.ID, st)
	}
	e.log.Debug().Str("job", id).Int("tasks", len(s.tasks)).Str("script", s.script()).Msg("submitted")
	return jobs, nil
}

// submitScript is what the Runner runs to submit s: make the directory,
// write the job script through a quoted here-document (its delimiter is
// random and checked not to occur in the script), and sbatch it. Paths go
// on sbatch's command line, quoted, rather than into #SBATCH lines, where
// spaces or quotes in a directory name would be misread.
func (e *Executor) submitScript(s *submission) string {
	body := e.jobScript(s)
	delim := "FLOW_EOF"
	for strings.Contains(body, delim) {
		k, _ := uniqueKey("FLOW_EOF")
		delim = strings.ReplaceAll(k, "-", "_")
	}
	var b strings.Builder
	b.WriteString("# flow: sbatch\nset -e\n")
	fmt.Fprintf(&b, "mkdir -p -- %s\n", shell.Quote(s.dir))
	fmt.Fprintf(&b, "cat >%s <<'%s'\n%s%s\n", shell.Quote(s.script()+".tmp"), delim, body, delim)
	fmt.Fprintf(&b, "mv -f -- %s %s\n", shell.Quote(s.script()+".tmp"), shell.Quote(s.script()))
	// sbatch's answer is kept beside the script: the same script run again
	// (after the connection dropped during the call) prints it instead of
	// submitting the jobs a second time.
	id := shell.Quote(s.prefix + ".jobid")
	fmt.Fprintf(&b, "if ! [ -s %s ]; then\n", id)
	fmt.Fprintf(&b, "\tsbatch --parsable --chdir=%s --output=%s --error=%s -- %s >%s.tmp\n",
		shell.Quote(s.dir), shell.Quote(s.log()), shell.Quote(s.log()), shell.Quote(s.script()), id)
	fmt.Fprintf(&b, "\tmv -f -- %s.tmp %s\nfi\ncat -- %s\n", id, id, id)
	return b.String()
}

// stateVersion is the version of jobState written into handles.
const stateVersion = 1

// jobState is a Handle's State: all a new executor needs to re-attach.
type jobState struct {
	Version    int       `json:"v"`
	JobID      string    `json:"job"`         // "123", or "123_4" for an array task
	ExitFile   string    `json:"exit_file"`   // written by the job script when the task ends
	StderrFile string    `json:"stderr_file"` // read for Result.StderrTail
	Log        string    `json:"log"`         // Slurm's own log for the job, for messages
	Argv0      string    `json:"argv0"`       // for the "command not found" message
	Submitted  time.Time `json:"submitted"`
}

func (j *job) handle() *executors.Handle {
	b, _ := json.Marshal(j.st) // plain strings and a time: cannot fail
	return &executors.Handle{Executor: Name, TaskID: j.taskID, JobID: j.st.JobID, State: b}
}
