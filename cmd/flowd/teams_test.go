package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flow-cwl/flow/server/store"
)

// writeConfig writes a flowd.yaml for a test.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "flowd.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runExample runs the example workflow through the daemon with token and
// returns the id of the team's newest run.
func (d *daemon) runExample(t *testing.T, token string) string {
	t.Helper()
	code, _, stderr := flow(t, nil, "run", "--run_compute", "--quiet", "--compute_url", d.url, "--compute_access_token", token,
		"--outdir", t.TempDir(), exampleWorkflow, exampleInputs)
	if code != 0 {
		t.Fatalf("run: exit %d: %s\n%s", code, stderr, d.log.String())
	}
	_, body := d.request("GET", "/api/v1/runs", token, nil, "")
	var list struct{ Runs []struct{ ID string } }
	if json.Unmarshal(body, &list); len(list.Runs) == 0 {
		t.Fatalf("no runs listed: %s", body)
	}
	return list.Runs[0].ID
}

// wantPrivateDirs fails unless each path is a directory of mode 0700.
func wantPrivateDirs(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: want a directory of mode 0700: %v %v", p, fi, err)
		}
	}
}

func nonEmptyDir(p string) bool {
	entries, err := os.ReadDir(p)
	return err == nil && len(entries) > 0
}

// Two teams' runs land in their own private directories and provenance
// databases, and neither team can read the other's steps, logs or
// provenance through the daemon, though both databases exist.
func TestTeamsHaveTheirOwnState(t *testing.T) {
	d := newDaemon(t)
	a := d.token("genomics", "operator")
	b := d.token("imaging", "operator")
	d.start()
	idA := d.runExample(t, a)
	idB := d.runExample(t, b)

	teamA, teamB := filepath.Join(d.dataDir, "teams", "genomics"), filepath.Join(d.dataDir, "teams", "imaging")
	for _, dir := range []string{teamA, teamB} {
		wantPrivateDirs(t, dir, filepath.Join(dir, "runs"), filepath.Join(dir, "work"), filepath.Join(dir, "cache"))
		if !nonEmptyDir(filepath.Join(dir, "cache")) {
			t.Errorf("%s: the team's step cache is empty", dir)
		}
	}
	wantPrivateDirs(t, filepath.Join(d.dataDir, "teams"), filepath.Join(d.dataDir, "agents"),
		filepath.Join(teamA, "runs", idA), filepath.Join(teamB, "runs", idB))
	for _, shared := range []string{"flow.db", "runs", "work", "cache"} {
		if _, err := os.Stat(filepath.Join(d.dataDir, shared)); err == nil {
			t.Errorf("data_dir/%s exists: something is still shared between teams", shared)
		}
	}
	// Each team's database holds its own run, and only it.
	for _, c := range []struct{ db, own, other string }{{teamA, idA, idB}, {teamB, idB, idA}} {
		code, out, stderr := flow(t, nil, "runs", "--db", filepath.Join(c.db, "flow.db"), "-o", "json")
		if code != 0 || !strings.Contains(out, c.own) || strings.Contains(out, c.other) {
			t.Errorf("%s/flow.db should hold run %s and not %s: %d %s %s", c.db, c.own, c.other, code, out, stderr)
		}
	}

	// Team A reads its run's steps, a job's log and the provenance...
	status, body := d.request("GET", "/api/v1/runs/"+idA+"/steps", a, nil, "")
	var steps []struct{ Job string }
	if json.Unmarshal(body, &steps); status != 200 || len(steps) == 0 {
		t.Fatalf("team A's steps: %d %s", status, body)
	}
	paths := []string{"/api/v1/runs/" + idA + "/steps", "/api/v1/runs/" + idA + "/logs/" + steps[0].Job + "?stream=stdout",
		"/api/v1/runs/" + idA + "/provenance", "/ga4gh/wes/v1/runs/" + idA + "/tasks"}
	for _, p := range paths {
		if status, body := d.request("GET", p, a, nil, ""); status != 200 {
			t.Errorf("team A: GET %s: %d %.200s", p, status, body)
		}
	}
	// ... and team B, whose own provenance database exists, gets 404.
	if _, err := os.Stat(filepath.Join(teamB, "flow.db")); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if status, body := d.request("GET", p, b, nil, ""); status != 404 || strings.Contains(string(body), steps[0].Job) {
			t.Errorf("team B: GET %s: %d %.200s", p, status, body)
		}
	}
}

// With share_cache, every team's step cache is data_dir/cache, indexed
// in data_dir/cache.db, so one team reuses the steps another ran; without,
// it is the team's own (TestTeamsHaveTheirOwnState), and each team's
// provenance stays its own either way.
func TestShareCache(t *testing.T) {
	d := newDaemon(t, "--config", writeConfig(t, "share_cache: true\n"))
	a := d.token("genomics", "operator")
	b := d.token("imaging", "operator")
	d.start()
	idA := d.runExample(t, a)
	idB := d.runExample(t, b)
	if !nonEmptyDir(filepath.Join(d.dataDir, "cache")) {
		t.Error("share_cache: data_dir/cache is empty")
	}
	wantPrivateDirs(t, filepath.Join(d.dataDir, "cache"))
	if _, err := os.Stat(filepath.Join(d.dataDir, "cache.db")); err != nil {
		t.Errorf("share_cache: no shared index: %v", err)
	}
	for _, team := range []string{"genomics", "imaging"} {
		if _, err := os.Stat(filepath.Join(d.dataDir, "teams", team, "cache")); err == nil {
			t.Errorf("share_cache: team %s has a cache of its own", team)
		}
	}
	states := func(token, id string) map[string]int {
		_, body := d.request("GET", "/api/v1/runs/"+id+"/steps", token, nil, "")
		var steps []struct{ State string }
		json.Unmarshal(body, &steps)
		n := map[string]int{}
		for _, s := range steps {
			n[s.State]++
		}
		return n
	}
	if got := states(a, idA); got["succeeded"] == 0 || got["reused"] != 0 {
		t.Errorf("the first team's run: %v", got)
	}
	if got := states(b, idB); got["reused"] == 0 || got["succeeded"] != 0 {
		t.Errorf("the second team's run did not reuse the first's steps: %v", got)
	}
	code, out, _ := flow(t, nil, "runs", "--db", filepath.Join(d.dataDir, "teams", "imaging", "flow.db"), "-o", "json")
	if code != 0 || strings.Contains(out, idA) || !strings.Contains(out, idB) {
		t.Errorf("the second team's provenance: %s", out)
	}
}

// A team name must be one safe path component, from the first token on.
func TestTeamNameMustBeOnePathComponent(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	for _, team := range []string{"../x", "..", "a/b", "/tmp/x", ".x"} {
		cmd := exec.Command(filepath.Join(binDir, "flowd"), "token", "create", "--team", team, "--role", "admin", "--data-dir", dataDir)
		out, err := cmd.Output()
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		if err == nil || len(out) > 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || !strings.Contains(stderr, "team") {
			t.Errorf("team %q: %v, stdout %q, stderr %q", team, err, out, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, "..", "x")); err == nil {
		t.Error("a directory was made outside the data directory")
	}
}

// startFails runs flowd, which must exit 1 before listening, and returns
// what it printed.
func startFails(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := freeAddr(t)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "flowd"), append([]string{"--listen", addr, "--data-dir", filepath.Join(t.TempDir(), "data")}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("flowd: %v, want exit 1: %s", err, out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Contains(text, "\n") || strings.Contains(text, "listening") {
		t.Errorf("want one line, before listening:\n%s", text)
	}
	return text
}

// An isolation flowd does not know stops it with one line naming the
// file and the field.
func TestUnknownIsolationFailsStart(t *testing.T) {
	cfg := writeConfig(t, "isolation: sandboxed\n")
	out := startFails(t, nil, "--config", cfg)
	if !strings.Contains(out, cfg) || !strings.Contains(out, "isolation") || !strings.Contains(out, "sandboxed") {
		t.Errorf("the error does not name the file, the field and the value: %s", out)
	}
}

// Where no sandbox can be made, flowd with isolation: sandbox (the
// default) does not start: every run would fail.
func TestNoSandboxFailsStart(t *testing.T) {
	bin := t.TempDir()
	fake := "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "bwrap"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	out := startFails(t, []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")})
	if !strings.Contains(out, "sandbox") || !strings.Contains(out, "No permissions to create new namespace") || !strings.Contains(out, "isolation: none") {
		t.Errorf("the error does not say why, and what to do: %s", out)
	}
}

// isolation: none is said at every start, and reported to clients.
func TestIsolationNoneIsLoggedAndReported(t *testing.T) {
	d := newDaemon(t, "--config", writeConfig(t, "isolation: none\n"))
	tok := d.token("genomics", "viewer")
	for range 2 {
		d.start()
		if !strings.Contains(d.log.String(), "isolation: none: team runs are not confined") {
			t.Errorf("no warning at start:\n%s", d.log.String())
		}
		d.stop()
	}
	d.start()
	status, body := d.request("GET", "/api/v1/systems", tok, nil, "")
	var sys struct {
		Isolation string
		Clusters  []any
	}
	if json.Unmarshal(body, &sys); status != 200 || sys.Isolation != "none" || sys.Clusters == nil {
		t.Errorf("systems: %d %s", status, body)
	}
	code, out, stderr := flow(t, []string{"FLOW_URL=" + d.url, "FLOW_TOKEN=" + tok}, "systems", "status")
	if code != 0 || !strings.Contains(out, `"isolation": "none"`) {
		t.Errorf("flow systems status: %d %s %s", code, out, stderr)
	}
}

// The sandbox is what keeps one team's jobs out of another's files: the
// same job of team B that reads team A's inputs by their path fails with
// isolation: sandbox and succeeds with none.
func TestSandboxKeepsJobsOutOfOtherTeamsFiles(t *testing.T) {
	const cat = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs:\n  path: {type: string, inputBinding: {position: 1}}\noutputs:\n  out: stdout\n"
	for isolation, want := range map[string]string{"sandbox": "EXECUTOR_ERROR", "none": "COMPLETE"} {
		t.Run(isolation, func(t *testing.T) {
			d := newDaemon(t, "--config", writeConfig(t, "isolation: "+isolation+"\n"))
			a := d.token("genomics", "operator")
			b := d.token("imaging", "operator")
			d.start()
			idA := d.runExample(t, a)
			secret := filepath.Join(d.dataDir, "teams", "genomics", "runs", idA, "inputs.json")
			if _, err := os.Stat(secret); err != nil {
				t.Fatal(err)
			}
			params, _ := json.Marshal(map[string]string{"path": secret})
			id := d.submit(b, form{fields: [][2]string{{"workflow_url", "cat.cwl"}, {"workflow_params", string(params)}},
				files: [][2]string{{"cat.cwl", cat}}})
			if got := d.waitState(b, id, 60*time.Second); got != want {
				t.Errorf("team B's job reading team A's %s: %s, want %s", secret, got, want)
			}
			_, body := d.request("GET", "/api/v1/runs/"+id, b, nil, "")
			if isolation == "sandbox" && !strings.Contains(string(body), "No such file or directory") {
				t.Errorf("the job failed, but not for want of the file: %s", body)
			}
			_, body = d.request("GET", "/api/v1/systems", b, nil, "")
			if !strings.Contains(string(body), `"isolation": "`+isolation+`"`) {
				t.Errorf("systems: %s", body)
			}
		})
	}
}

// A run submitted before teams had directories of their own (its Dir is
// data_dir/runs/<id>, its provenance in data_dir/flow.db) and still queued
// when flowd is upgraded runs where it is, and its steps, provenance and
// outputs are served as before.
func TestRunsFromBeforeTeamsKeepWorking(t *testing.T) {
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	const id = "20261101T120000.000000Z-old001"
	dir := filepath.Join(d.dataDir, "runs", id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "wf.cwl"), []byte(threeSteps), 0o600)
	os.WriteFile(filepath.Join(dir, "step.cwl"), []byte(strings.ReplaceAll(oneStep, "sleep 1; ", "")), 0o600)
	os.WriteFile(filepath.Join(dir, "inputs.json"), []byte(`{"seed": 3}`), 0o600)
	st, err := store.Open(d.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	err = st.CreateRun(&store.Run{ID: id, Team: "genomics", Workflow: "wf.cwl", Inputs: map[string]any{"seed": 3}, Dir: dir, State: store.StateQueued})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	d.start()
	if got := d.waitState(tok, id, 60*time.Second); got != "COMPLETE" {
		t.Fatalf("the old run: %s\n%s", got, d.log.String())
	}
	if _, err := os.Stat(filepath.Join(d.dataDir, "flow.db")); err != nil {
		t.Errorf("the old run did not record into the provenance it started with: %v", err)
	}
	for _, p := range []string{"/steps", "/provenance", "/files/out.txt"} {
		if status, body := d.request("GET", "/api/v1/runs/"+id+p, tok, nil, ""); status != 200 || len(body) == 0 {
			t.Errorf("GET %s: %d %.200s", p, status, body)
		}
	}
}
