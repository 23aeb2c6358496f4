package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeOut is a tool that writes its text input to out.txt.
const writeOut = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\ninputs: {text: {type: string, inputBinding: {}}}\n" +
	"stdout: out.txt\noutputs: {out: {type: File, outputBinding: {glob: out.txt}}}\n"

// catTool prints its File input; lsTool lists its Directory input.
const (
	catTool = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs: {f: {type: File, inputBinding: {}}}\noutputs: {out: stdout}\n"
	lsTool  = "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [ls, -R]\ninputs: {d: {type: Directory, inputBinding: {}}}\noutputs: {out: stdout}\n"
)

func randomSecret(what string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return what + "-" + hex.EncodeToString(b)
}

// A submission may name files only in its own directory, in the team's
// earlier outputs and in the team's data roots: the daemon's key, another
// team's outputs, files elsewhere on the machine (directly, by a relative
// path, through a symlink, by $import) are refused with 400 before the run
// starts, the answer naming the input and the location as written and
// nothing of the file; a tool's outputEval naming such a file fails the
// run, and nothing of the file reaches its outputs.
func TestSubmissionsReadOnlyWhatTheTeamMay(t *testing.T) {
	elsewhere := t.TempDir()
	secret := randomSecret("SECRET")
	if err := os.Mkdir(filepath.Join(elsewhere, "ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"shadow", "ssh/ssh_host_ed25519_key", "ssh/sshd_config"} {
		writeFile(t, filepath.Join(elsewhere, f), secret+"\n")
	}
	shadow, sshDir := filepath.Join(elsewhere, "shadow"), filepath.Join(elsewhere, "ssh")
	dataRoot := t.TempDir()
	writeFile(t, filepath.Join(dataRoot, "ref.txt"), "reference\n")
	if err := os.Symlink(shadow, filepath.Join(dataRoot, "link")); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "flowd.yaml")
	writeFile(t, config, "teams: {genomics: {data_roots: ["+dataRoot+"]}}\n")
	d := newDaemon(t, "--config", config)
	genomics := d.token("genomics", "operator")
	imaging := d.token("imaging", "operator")
	d.start()
	key, err := os.ReadFile(filepath.Join(d.dataDir, "flowd.key"))
	if err != nil || len(key) == 0 {
		t.Fatalf("the daemon's key: %v", err)
	}

	// Another team's run leaves an output; so does one of the team's own.
	theirSecret := randomSecret("IMAGING")
	theirs := d.submit(imaging, form{fields: [][2]string{{"workflow_url", "w.cwl"}, {"workflow_params", `{"text": "` + theirSecret + `"}`}},
		files: [][2]string{{"w.cwl", writeOut}}})
	ours := d.submit(genomics, form{fields: [][2]string{{"workflow_url", "w.cwl"}, {"workflow_params", `{"text": "ours"}`}},
		files: [][2]string{{"w.cwl", writeOut}}})
	if st := d.waitState(imaging, theirs, 60*time.Second); st != "COMPLETE" {
		t.Fatalf("the other team's run: %s\n%s", st, d.log.String())
	}
	if st := d.waitState(genomics, ours, 60*time.Second); st != "COMPLETE" {
		t.Fatalf("the team's run: %s\n%s", st, d.log.String())
	}

	submission := func(params string, files ...[2]string) form {
		if len(files) == 0 {
			files = [][2]string{{"tool.cwl", catTool}}
		}
		return form{fields: [][2]string{{"workflow_url", "tool.cwl"}, {"workflow_params", params}}, files: files}
	}
	refusals := []struct {
		name string
		f    form
		want []string
	}{
		{"a file elsewhere", submission(`{"f": {"class": "File", "location": "file://` + shadow + `"}}`), []string{`input "f"`, `"file://` + shadow + `"`}},
		{"the daemon's key", submission(`{"f": {"class": "File", "path": "` + filepath.Join(d.dataDir, "flowd.key") + `"}}`), []string{`input "f"`}},
		{"the daemon's key, relatively", submission(`{"f": {"class": "File", "location": "../../flowd.key"}}`), []string{`input "f"`, `"../../flowd.key"`}},
		{"another team's output", submission(`{"f": {"class": "File", "location": "../` + theirs + `/outputs/out.txt"}}`), []string{`input "f"`, "/outputs/out.txt"}},
		{"a symlink in a data root", submission(`{"f": {"class": "File", "location": "` + filepath.Join(dataRoot, "link") + `"}}`), []string{`input "f"`}},
		{"a Directory elsewhere", submission(`{"d": {"class": "Directory", "location": "`+sshDir+`"}}`, [2]string{"tool.cwl", lsTool}), []string{`input "d"`}},
		{"a secondary file elsewhere", submission(`{"f": {"class": "File", "location": "in.txt", "secondaryFiles": [{"class": "File", "location": "`+shadow+`"}]}}`,
			[2]string{"tool.cwl", catTool}, [2]string{"in.txt", "x"}), []string{`input "f"`}},
		{"a listing elsewhere", submission(`{"d": {"class": "Directory", "basename": "d", "listing": [{"class": "File", "location": "`+shadow+`"}]}}`, [2]string{"tool.cwl", lsTool}), []string{`input "d"`}},
		{"$import of a file elsewhere", submission(`{}`, [2]string{"tool.cwl", strings.Replace(catTool, "outputs: {out: stdout}", "outputs: {out: {$import: '"+shadow+"'}}", 1)}), []string{"tool.cwl:5:", "$import"}},
		{"$include of the daemon's key", submission(`{}`, [2]string{"tool.cwl", strings.Replace(catTool, "baseCommand: cat", "baseCommand: {$include: ../../flowd.key}", 1)}), []string{"tool.cwl:3:", "$include", `"../../flowd.key"`}},
		{"a step runs another team's document", submission(`{}`, [2]string{"tool.cwl", "cwlVersion: v1.2\nclass: Workflow\ninputs: []\noutputs: []\nsteps: {s: {run: ../" + theirs + "/w.cwl, in: {text: {default: x}}, out: []}}\n"}), []string{"tool.cwl:5:", "steps.s.run"}},
		{"a default elsewhere", submission(`{}`, [2]string{"tool.cwl", strings.Replace(catTool, "inputBinding: {}", "inputBinding: {}, default: {class: File, location: '"+shadow+"'}", 1)}), []string{"tool.cwl:4:"}},
		{"a file elsewhere, on a cluster", form{fields: [][2]string{{"workflow_url", "tool.cwl"}, {"workflow_params", `{"f": {"class": "File", "location": "` + shadow + `"}}`}, {"workflow_engine_parameters", `{"cluster": "hpc1"}`}},
			files: [][2]string{{"tool.cwl", catTool}}}, []string{`input "f"`}},
	}
	for _, c := range refusals {
		body, ctype := c.f.encode()
		status, resp := d.request("POST", "/api/v1/runs", genomics, body, ctype)
		if status != 400 {
			t.Errorf("%s: %d, want 400: %s", c.name, status, resp)
			continue
		}
		var e struct{ Msg string }
		if err := json.Unmarshal(resp, &e); err != nil || e.Msg == "" || strings.Contains(e.Msg, "\n") {
			t.Errorf("%s: the answer is not an error object: %s", c.name, resp)
		}
		text := e.Msg
		for _, w := range append(c.want, "is outside what this run may read") {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the answer does not say %s: %s", c.name, w, text)
			}
		}
		if raw := string(resp); strings.Contains(raw, secret) || strings.Contains(raw, theirSecret) || strings.Contains(raw, strings.TrimSpace(string(key))) {
			t.Errorf("%s: the answer holds a file's contents: %s", c.name, text)
		}
		if !strings.Contains(string(c.f.fields[1][1]), d.dataDir) && strings.Contains(text, d.dataDir) {
			t.Errorf("%s: the answer names the data directory: %s", c.name, text)
		}
	}
	if _, list := d.request("GET", "/api/v1/runs", genomics, nil, ""); strings.Count(string(list), `"id"`) != 1 {
		t.Errorf("a refused submission left a run: %s", list)
	}

	// What the team may read runs: its own earlier output, its data
	// root, and, for a run on a cluster, a path that is not here.
	allowed := d.submit(genomics, submission(`{"f": {"class": "File", "location": "../`+ours+`/outputs/out.txt"}}`))
	if st := d.waitState(genomics, allowed, 60*time.Second); st != "COMPLETE" {
		t.Errorf("a run reading the team's own output: %s", st)
	}
	root := d.submit(genomics, submission(`{"f": {"class": "File", "location": "file://`+filepath.Join(dataRoot, "ref.txt")+`"}}`))
	if st := d.waitState(genomics, root, 60*time.Second); st != "COMPLETE" {
		t.Errorf("a run reading the team's data root: %s", st)
	}
	body, ctype := form{fields: [][2]string{{"workflow_url", "tool.cwl"}, {"workflow_params", `{"f": {"class": "File", "location": "/cluster/scratch/reads.fq"}}`}, {"workflow_engine_parameters", `{"cluster": "hpc1"}`}},
		files: [][2]string{{"tool.cwl", catTool}}}.encode()
	if status, resp := d.request("POST", "/api/v1/runs", genomics, body, ctype); status != 201 {
		t.Errorf("a cluster path on a cluster run: %d %s", status, resp)
	}

	// A registered workflow's trigger is a submission too.
	body, ctype = form{fields: [][2]string{{"workflow_url", "tool.cwl"}}, files: [][2]string{{"tool.cwl", catTool}}}.encode()
	if status, resp := d.request("POST", "/api/v1/workflows?name=cat&version=1", genomics, body, ctype); status != 201 {
		t.Fatalf("register: %d %s", status, resp)
	}
	trigger := `{"inputs": {"f": {"class": "File", "location": "file://` + shadow + `"}}}`
	if status, resp := d.request("POST", "/api/v1/workflows/cat/runs", genomics, []byte(trigger), "application/json"); status != 400 ||
		!strings.Contains(string(resp), "is outside what this run may read") || strings.Contains(string(resp), secret) {
		t.Errorf("a trigger naming a file elsewhere: %d %s", status, resp)
	}
	trigger = `{"inputs": {"f": {"class": "File", "location": "../` + ours + `/outputs/out.txt"}}}`
	if status, resp := d.request("POST", "/api/v1/workflows/cat/runs", genomics, []byte(trigger), "application/json"); status != 201 {
		t.Errorf("a trigger naming the team's output: %d %s", status, resp)
	}

	// A tool's outputEval that names a file elsewhere fails the run.
	evil := "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}}\nbaseCommand: \"true\"\ninputs: []\n" +
		"outputs: {out: {type: File, outputBinding: {outputEval: '$({\"class\": \"File\", \"path\": \"" + shadow + "\"})'}}}\n"
	id := d.submit(genomics, submission(`{}`, [2]string{"tool.cwl", evil}))
	if st := d.waitState(genomics, id, 60*time.Second); st == "COMPLETE" {
		t.Errorf("a run whose output is a file elsewhere completed")
	}
	_, run := d.request("GET", "/api/v1/runs/"+id, genomics, nil, "")
	_, files := d.request("GET", "/api/v1/runs/"+id+"/files", genomics, nil, "")
	if !strings.Contains(string(run), "outside the job's output directory") {
		t.Errorf("the run's error does not say why: %s", run)
	}
	for _, answer := range []string{string(run), string(files)} {
		if strings.Contains(answer, secret) {
			t.Errorf("an answer holds the file's contents: %s", answer)
		}
	}
	_ = filepath.WalkDir(filepath.Join(d.dataDir, "runs", id), func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), secret) {
				t.Errorf("%s holds the file's contents", p)
			}
		}
		return nil
	})
}

// teams.<team>.data_roots in flowd.yaml become the daemon's DataRoots;
// a relative root, which would depend on where flowd starts, is refused.
func TestDataRootsConfig(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yaml"), filepath.Join(dir, "bad.yaml")
	writeFile(t, good, "flow: /bin/true\nteams:\n  genomics: {data_roots: [/data/genomics, /data/shared]}\n  imaging: {}\n")
	writeFile(t, bad, "flow: /bin/true\nteams: {genomics: {data_roots: [data/genomics]}}\n")
	fc, err := readConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverConfig(fc, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.DataRoots["genomics"], ","); got != "/data/genomics,/data/shared" || len(cfg.DataRoots["imaging"]) != 0 {
		t.Errorf("data roots: %v", cfg.DataRoots)
	}
	fc, err = readConfig(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serverConfig(fc, "", dir); err == nil || !strings.Contains(err.Error(), "absolute") {
		t.Errorf("a relative data root: %v", err)
	}
}
