package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The attacks of a team member with an ordinary operator token on the
// daemon, on another team and on the daemon's machine, each tried as an
// attacker would, with flowd running as root and as an unprivileged
// service account. Every one must fail, and the victim's files must be as
// they were.
func TestIsolationAgainstAHostileTeam(t *testing.T) {
	t.Run("root", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("flowd as root needs the tests to run as root")
		}
		hostileTeam(t, nil)
	})
	t.Run("unprivileged", func(t *testing.T) {
		if os.Geteuid() != 0 {
			hostileTeam(t, nil) // the tests' own user is unprivileged
			return
		}
		hostileTeam(t, serviceAccount(t))
	})
}

// serviceAccount is the credential of an unprivileged account (nobody)
// for flowd to run as.
func serviceAccount(t *testing.T) *syscall.Credential {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no unprivileged account to run flowd as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// isolatedDaemon is a flowd whose binaries and data directory the account
// cred (nil: this process's) owns or can reach, with a marker in its
// environment that no job may read.
func isolatedDaemon(t *testing.T, cred *syscall.Credential) *daemon {
	base, err := os.MkdirTemp("", "flowd-isolation-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	bin := filepath.Join(base, "bin")
	os.Mkdir(bin, 0o755)
	for _, name := range []string{"flowd", "flow"} {
		copyFile(t, filepath.Join(binDir, name), filepath.Join(bin, name), 0o755)
	}
	d := &daemon{t: t, dataDir: filepath.Join(base, "data"), bin: bin, cred: cred,
		env: []string{"FLOWD_ISOLATION_MARKER=daemon-environment-" + randomHex(t)}}
	if cred != nil {
		os.Mkdir(d.dataDir, 0o700)
		os.Chown(d.dataDir, int(cred.Uid), int(cred.Gid))
	}
	return d
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

const echoTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs: {secret: {type: string, inputBinding: {position: 1}}}
stdout: out.txt
outputs: {out: stdout}
`

const sleepTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sleep, "12"]
inputs: []
outputs: []
`

// scriptTool runs its script input with sh and keeps report.txt and every
// stolen-* file it made as outputs.
const scriptTool = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c]
inputs: {script: {type: string, inputBinding: {position: 1}}}
outputs:
  report: {type: File, outputBinding: {glob: report.txt}}
  stolen: {type: 'File[]', outputBinding: {glob: 'stolen-*'}}
`

func toolForm(tool, params string) form {
	return form{fields: [][2]string{{"workflow_url", "tool.cwl"}, {"workflow_params", params}}, files: [][2]string{{"tool.cwl", tool}}}
}

func hostileTeam(t *testing.T, cred *syscall.Credential) {
	d := isolatedDaemon(t, cred)
	victim := d.token("genomics", "operator")
	attacker := d.token("imaging", "operator")
	d.start()

	// The victim's finished run, its running one, and the daemon's files.
	secret := "victim-output-" + randomHex(t)
	done := d.submit(victim, toolForm(echoTool, fmt.Sprintf(`{"secret": %q}`, secret)))
	if st := d.waitState(victim, done, 2*time.Minute); st != "COMPLETE" {
		t.Fatalf("the victim's run: %s\n%s", st, d.log.String())
	}
	victimOut := findFile(t, d.dataDir, "out.txt", secret)
	running := d.submit(victim, toolForm(sleepTool, `{}`))
	victimPID := waitForProcess(t, "--run-id\x00"+running)
	victimWorkflow := filepath.Join(filepath.Dir(filepath.Dir(victimOut)), "tool.cwl")
	before := snapshot(t, victimOut, victimWorkflow)
	other, accepted := listen(t)
	_, daemonPort, _ := net.SplitHostPort(strings.TrimPrefix(d.url, "http://"))
	key, _ := os.ReadFile(filepath.Join(d.dataDir, "flowd.key"))

	attempts := []struct{ name, script string }{
		{"read flowd.db", "cat DATA/flowd.db > stolen-db"},
		{"read flowd.key", "cat DATA/flowd.key > stolen-key"},
		{"read the victim's provenance", "cat DATA/teams/genomics/flow.db > stolen-prov"},
		{"list the victim's runs", "ls DATA/teams/genomics/runs | grep -q ."},
		{"read the victim's output", "cat VOUT > stolen-out"},
		{"append to the victim's output", "echo attacker >> VOUT"},
		{"edit the victim's workflow", "echo '# attacker' >> VWF"},
		{"read the daemon's environment", "cat /proc/*/environ | tr '\\000' '\\n' | grep FLOWD_ISOLATION_MARKER > stolen-env"},
		{"signal the victim's flow", "kill -9 VPID"},
		{"find the agents", "ls DATA/agents"},
		{"connect to the daemon", "bash -c 'echo > /dev/tcp/127.0.0.1/DPORT'"},
		{"connect to another loopback port", "bash -c 'echo > /dev/tcp/127.0.0.1/OPORT'"},
	}
	var script strings.Builder
	for _, a := range attempts {
		fmt.Fprintf(&script, "if ( %s ) >/dev/null 2>&1; then echo \"%s: DONE\"; else echo \"%s: denied\"; fi >> report.txt\n", a.script, a.name, a.name)
	}
	script.WriteString("for f in stolen-*; do [ -s \"$f\" ] || rm -f \"$f\"; done\n")
	text := strings.NewReplacer("DATA", d.dataDir, "VOUT", victimOut, "VWF", victimWorkflow, "VPID", fmt.Sprint(victimPID),
		"DPORT", daemonPort, "OPORT", fmt.Sprint(other)).Replace(script.String())
	params, _ := json.Marshal(map[string]string{"script": text})
	hostile := d.submit(attacker, toolForm(scriptTool, string(params)))
	if st := d.waitState(attacker, hostile, 2*time.Minute); st != "COMPLETE" {
		t.Fatalf("the attacker's run: %s\n%s", st, d.log.String())
	}
	report := d.download(attacker, hostile, "report.txt")
	for _, a := range attempts {
		if !strings.Contains(report, a.name+": denied") {
			t.Errorf("attack %q was not denied; the attacker's report:\n%s", a.name, report)
		}
	}
	for _, f := range d.outputFiles(attacker, hostile) {
		body := d.download(attacker, hostile, f)
		if strings.Contains(body, secret) || len(key) > 0 && strings.Contains(body, string(key)) || strings.Contains(body, "FLOWD_ISOLATION_MARKER") {
			t.Errorf("the attacker's output %s holds the victim's or the daemon's bytes", f)
		}
	}
	if st := d.waitState(victim, running, 2*time.Minute); st != "COMPLETE" {
		t.Errorf("the victim's running run ended %s after the attack", st)
	}
	if after := snapshot(t, victimOut, victimWorkflow); after != before {
		t.Errorf("the victim's files changed:\nbefore %s\nafter  %s", before, after)
	}
	if n := accepted.Load(); n > 0 {
		t.Errorf("another loopback port accepted %d connections from a job", n)
	}
	codeFree(t, d, attacker, victimOut, secret)
	if strings.Contains(d.log.String(), "panic") {
		t.Errorf("the daemon's log has a panic:\n%s", d.log.String())
	}
}

// codeFree are the attacks that need no code of the attacker's to run:
// locations in the inputs, the documents and the outputs of a tool.
func codeFree(t *testing.T, d *daemon, token, victimOut, secret string) {
	cat := "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: cat\ninputs: {f: {type: File, inputBinding: {position: 1}}}\nstdout: copy.txt\noutputs: {copy: stdout}\n"
	for _, loc := range []string{"file:///etc/shadow", "file://" + filepath.Join(d.dataDir, "flowd.key"),
		"file://" + victimOut, "../../../genomics/runs/" + filepath.Base(filepath.Dir(filepath.Dir(victimOut))) + "/outputs/out.txt"} {
		body, ctype := toolForm(cat, fmt.Sprintf(`{"f": {"class": "File", "location": %q}}`, loc)).encode()
		status, resp := d.request("POST", "/api/v1/runs", token, body, ctype)
		// The answer may quote the location as the user wrote it, never
		// where it leads on the server, nor what the file holds.
		leaks := strings.Contains(string(resp), secret) || !strings.Contains(loc, d.dataDir) && strings.Contains(string(resp), d.dataDir)
		if status != 400 || leaks {
			t.Errorf("a File input at %s: %d %s", loc, status, resp)
		}
	}
	body, ctype := toolForm("cwlVersion: v1.2\nclass: CommandLineTool\ndoc: {$import: /etc/passwd}\nbaseCommand: 'true'\ninputs: []\noutputs: []\n", "{}").encode()
	if status, resp := d.request("POST", "/api/v1/runs", token, body, ctype); status != 400 || strings.Contains(string(resp), "root:") {
		t.Errorf("a document that $imports /etc/passwd: %d %s", status, resp)
	}
	// A File that an expression makes at run time, where no check of the
	// submission can see it.
	wf := "cwlVersion: v1.2\nclass: Workflow\nrequirements: {StepInputExpressionRequirement: {}, InlineJavascriptRequirement: {}}\n" +
		"inputs: []\noutputs: {copy: {type: File, outputSource: s/copy}}\nsteps:\n  s:\n    run: cat.cwl\n" +
		"    in: {f: {valueFrom: '${return {\"class\": \"File\", \"location\": \"file://" + victimOut + "\"};}'}}\n    out: [copy]\n"
	f := form{fields: [][2]string{{"workflow_url", "wf.cwl"}, {"workflow_params", "{}"}}, files: [][2]string{{"wf.cwl", wf}, {"cat.cwl", cat}}}
	id := d.submit(token, f)
	if st := d.waitState(token, id, 2*time.Minute); st == "COMPLETE" {
		t.Error("a workflow whose step input expression names the victim's output completed")
	}
	for _, f := range d.outputFiles(token, id) {
		if strings.Contains(d.download(token, id, f), secret) {
			t.Error("a step input expression handed over the victim's bytes")
		}
	}
	for _, leak := range []string{`{"class": "File", "path": "` + victimOut + `"}`, `{"class": "Directory", "path": "/etc/ssh"}`} {
		tool := "cwlVersion: v1.2\nclass: CommandLineTool\nrequirements: {InlineJavascriptRequirement: {}}\nbaseCommand: 'true'\ninputs: []\n" +
			"outputs: {leak: {type: Any, outputBinding: {outputEval: '${return " + leak + ";}'}}}\n"
		id := d.submit(token, toolForm(tool, "{}"))
		if st := d.waitState(token, id, 2*time.Minute); st == "COMPLETE" {
			t.Errorf("a tool whose outputEval returns %s completed", leak)
		}
		for _, f := range d.outputFiles(token, id) {
			if b := d.download(token, id, f); strings.Contains(b, secret) {
				t.Errorf("an outputEval returning %s handed over the victim's bytes", leak)
			}
		}
	}
}

// findFile is the file called name under dir that holds text.
func findFile(t *testing.T, dir, name, text string) string {
	var found string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == name {
			if b, _ := os.ReadFile(p); strings.Contains(string(b), text) {
				found = p
			}
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no %s holding %q under %s", name, text, dir)
	}
	return found
}

// waitForProcess is the pid of the process whose command line holds s.
func waitForProcess(t *testing.T, s string) int {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); bytes.Contains(b, []byte(s)) {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no process with %q in its command line", s)
	return 0
}

func snapshot(t *testing.T, paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%q ", filepath.Base(p), data)
	}
	return b.String()
}

// listen is a loopback port that counts the connections it accepts.
func listen(t *testing.T) (int, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, &n
}

// outputFiles lists a run's output files as the API names them.
func (d *daemon) outputFiles(token, id string) []string {
	d.t.Helper()
	status, body := d.request("GET", "/api/v1/runs/"+id+"/files", token, nil, "")
	var files []string
	if err := json.Unmarshal(body, &files); status != 200 || err != nil {
		d.t.Errorf("the files of run %s: %d %s", id, status, body)
	}
	return files
}

// download is one output file of a run, as a client downloads it.
func (d *daemon) download(token, id, name string) string {
	d.t.Helper()
	status, body := d.request("GET", "/api/v1/runs/"+id+"/files/"+name, token, nil, "")
	if status != 200 {
		d.t.Errorf("download %s of run %s: %d %s", name, id, status, body)
	}
	return string(body)
}

// lingerTool starts a process that leaves the job's process group and
// would write a file four seconds later.
const lingerTool = `cwlVersion: v1.2
class: CommandLineTool
requirements: {ShellCommandRequirement: {}}
inputs: []
arguments: [{valueFrom: "touch started; setsid sh -c 'sleep 4; echo alive > survivor' & sleep 100", shellQuote: false}]
outputs: []
`

// A daemon killed with SIGKILL, and a run's flow killed so, leave no
// process of their jobs running, not even one that called setsid.
func TestKilledDaemonLeavesNoJobProcess(t *testing.T) {
	for _, victim := range []string{"flowd", "flow"} {
		t.Run(victim, func(t *testing.T) {
			d := newDaemon(t)
			tok := d.token("genomics", "operator")
			d.start()
			id := d.submit(tok, toolForm(lingerTool, "{}"))
			deadline := time.Now().Add(time.Minute)
			for find(d.dataDir, "started") == "" {
				if time.Now().After(deadline) {
					t.Fatalf("the job did not start\n%s", d.log.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			began := time.Now()
			if victim == "flowd" {
				d.kill()
			} else {
				syscall.Kill(waitForProcess(t, "--run-id\x00"+id), syscall.SIGKILL)
			}
			time.Sleep(time.Until(began.Add(5 * time.Second)))
			if p := find(d.dataDir, "survivor"); p != "" {
				t.Errorf("a job's process outlived %s killed with SIGKILL and wrote %s", victim, p)
			}
		})
	}
}

// find returns the first file called name under dir, or "".
func find(dir, name string) string {
	var found string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Name() == name {
			found = p
			return fs.SkipAll
		}
		return nil
	})
	return found
}
