package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/flow-cwl/flow/internal/cwljson"
	"github.com/flow-cwl/flow/server/store"
)

// launchConfig says how runs are started: which flow binary, where their
// teams' databases, caches and work directories are, with which clusters,
// confined or not.
type launchConfig struct {
	Flow          string              // the flow binary
	Layout        layout              // where each team's flow.db, step cache and work directories live
	ComputeConfig string              // the clusters file for --run_compute; "" for flow's default
	Sandbox       bool                // every job in a sandbox (flow run --sandbox)
	DataRoots     map[string][]string // by team, read-only directories its runs may read
	// SandboxHide are the daemon's own files that sandboxed jobs must not
	// see even where they lie under a system directory the sandbox shows
	// (a data_dir or a key under /etc, say).
	SandboxHide []string
}

// child is one running `flow run` process.
type child struct {
	team, id string
	cmd      *exec.Cmd
}

// stop asks flow to stop the run: SIGTERM, which makes it cancel its
// jobs (scancel on a cluster) and exit.
func (c *child) stop() { _ = c.cmd.Process.Signal(syscall.SIGTERM) }

// args is the command line of a run, with its team's stores. The same
// command starts the run and, after a restart of the daemon, continues it
// (--run-id). ra, when set, gives the run its own clusters file (logging
// in with the team's key).
//
// A run on a cluster gets no --cache-dir: flow keeps its cache beside the
// team's --db when it stages files to the cluster, and in the cluster's
// workdir when that is shared, where the jobs that use the cache can
// reach it. Nor does it get --allow-path (its paths may be the cluster's)
// or --sandbox, which confines jobs on this
// machine: on a cluster they run under the cluster account's permissions.
func (lc launchConfig) args(run *store.Run, rs runStores, ra *runAgent) []string {
	if isDataCopy(run) {
		return lc.copyArgs(run, rs, ra)
	}
	a := []string{"run", "--run-id", run.ID, "--db", rs.db,
		"--outdir", filepath.Join(run.Dir, "outputs"), "--tmpdir-prefix", rs.work,
		"--log-format", "json"}
	if c := run.Tags[clusterTag]; c == "" {
		a = append(a, "--cache-dir", rs.cache)
		if rs.cacheIndex != "" {
			a = append(a, "--cache-db", rs.cacheIndex)
		}
		for _, p := range rs.allow {
			a = append(a, "--allow-path", p)
		}
		if lc.Sandbox {
			a = append(a, "--sandbox")
			for _, p := range lc.SandboxHide {
				a = append(a, "--sandbox-hide", p)
			}
		}
	} else {
		a = append(a, "--run_compute", "--cluster", c)
		switch {
		case ra != nil:
			a = append(a, "--compute-config", ra.config)
		case lc.ComputeConfig != "":
			a = append(a, "--compute-config", lc.ComputeConfig)
		}
	}
	return append(a, filepath.Join(run.Dir, run.Workflow), filepath.Join(run.Dir, inputsFile))
}

// start launches the run's process and follows it in the background.
func (r *runner) start(ctx context.Context, run *store.Run) (*child, error) {
	td, err := r.launch.Layout.team(run.Team)
	if err != nil {
		return nil, err
	}
	rs, err := td.stores(run)
	if err != nil {
		return nil, err
	}
	if err := rs.make(); err != nil {
		return nil, err
	}
	var ra *runAgent
	if run.Tags[clusterTag] == "" {
		// What the submission was checked against, checked again by
		// flow as it reads: files expressions make at run time too.
		if rs.allow, err = allowedRoots(r.store, r.launch.DataRoots, run); err != nil {
			return nil, err
		}
	}
	if c := run.Tags[clusterTag]; c != "" {
		var err error
		if ra, err = r.access(run, c); err != nil {
			return nil, fmt.Errorf("cannot give the run the team's key for cluster %s: %w", c, err)
		}
	}
	cmd := exec.CommandContext(ctx, r.launch.Flow, r.launch.args(run, rs, ra)...)
	cmd.Dir = run.Dir
	if cmd.Env, err = r.s3Env(run, os.Environ()); err != nil {
		ra.close()
		return nil, fmt.Errorf("cannot give the run the team's S3 credentials: %w", err)
	}
	if ra != nil {
		cmd.Env = append(cmd.Env, "SSH_AUTH_SOCK="+ra.socket)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	// The process dies with the daemon (SIGKILL, so that its Slurm jobs
	// live on to be re-attached when the daemon starts it again).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		ra.close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		ra.close()
		return nil, fmt.Errorf("cannot start %s: %w", r.launch.Flow, err)
	}
	ra.allow(cmd.Process.Pid) // the agent answers this process, and only it
	c := &child{team: run.Team, id: run.ID, cmd: cmd}
	r.markStarted(run)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		last := r.follow(run, stderr)
		err := cmd.Wait()
		ra.close()
		r.ended(ctx, run, &stdout, last, err)
	}()
	return c, nil
}

// markStarted records that the run is being started (again).
func (r *runner) markStarted(run *store.Run) {
	_ = r.store.UpdateRun(run.Team, run.ID, func(x *store.Run) error {
		x.Attempt++
		if x.State == store.StateQueued {
			x.State, x.Started = store.StateInitializing, time.Now()
		}
		return nil
	})
	r.stateEvent(run.Team, run.ID, store.StateInitializing, "")
}

// follow turns flow's log lines (JSON, one per line) into events of the
// run, marks it running at the first sign of a step, and returns the last
// line that was not JSON: flow's closing error message, if any.
func (r *runner) follow(run *store.Run, stderr io.Reader) string {
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var last string
	running := false
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var fields map[string]any
		if json.Unmarshal(line, &fields) != nil {
			last = string(line)
			continue
		}
		kind := store.EventLog
		if _, ok := fields["copy"]; ok && !running { // a data copy has begun
			running = true
			r.setRunning(run)
		}
		if _, ok := fields["step"]; ok {
			kind = store.EventStep
			if !running {
				running = true
				r.setRunning(run)
			}
		}
		r.event(run.Team, run.ID, kind, append(json.RawMessage(nil), line...))
	}
	return last
}

func (r *runner) setRunning(run *store.Run) {
	changed := false
	_ = r.store.UpdateRun(run.Team, run.ID, func(x *store.Run) error {
		if x.State == store.StateInitializing {
			x.State, changed = store.StateRunning, true
		}
		return nil
	})
	if changed {
		r.stateEvent(run.Team, run.ID, store.StateRunning, "")
	}
}

// ended records how the process ended and lets the next run in.
func (r *runner) ended(ctx context.Context, run *store.Run, stdout *bytes.Buffer, last string, err error) {
	r.mu.Lock()
	delete(r.running, run.ID)
	r.mu.Unlock()
	defer r.poke()
	var exit *exec.ExitError
	switch {
	case err == nil:
		var out map[string]any
		if jerr := cwljson.Decode(stdout.Bytes(), &out); jerr != nil {
			r.finish(run, store.StateSystemError, "flow printed no output object: "+jerr.Error(), nil)
			return
		}
		cwljson.Normalize(out)
		r.finish(run, store.StateComplete, "", relativeOutputs(out, filepath.Join(run.Dir, "outputs")))
	case errors.As(err, &exit) && exit.ExitCode() >= 0 && exit.ExitCode() != 130:
		r.finish(run, store.StateExecutorError, strings.TrimPrefix(last, "flow: "), nil)
	case ctx.Err() != nil:
		// The daemon is stopping: the run stays unfinished, to be
		// continued when it starts again.
	default: // a signal, or 130: stopped; a cancel makes it CANCELED in finish
		r.finish(run, store.StateSystemError, fmt.Sprintf("flow stopped (%v) %s", err, strings.TrimPrefix(last, "flow: ")), nil)
	}
}

// relativeOutputs makes the output object's locations relative to the
// run's output directory: what clients download them by.
func relativeOutputs(v any, dir string) map[string]any {
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
			if p, ok := t["path"].(string); ok {
				if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
					t["location"] = filepath.ToSlash(rel)
					delete(t, "path")
				}
			}
		}
		return v
	}
	m, _ := walk(v).(map[string]any)
	return m
}

func (r *runner) event(team, id, kind string, data json.RawMessage) {
	if err := r.store.AppendEvent(&store.Event{Team: team, RunID: id, Kind: kind, Data: data}); err != nil {
		r.log.Warn().Err(err).Str("run", id).Msg("cannot record an event")
	}
}

func (r *runner) stateEvent(team, id string, st store.RunState, msg string) {
	data, _ := json.Marshal(map[string]string{"state": string(st), "error": msg})
	r.event(team, id, store.EventState, data)
}
