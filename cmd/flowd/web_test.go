package main

// Browser tests of the web interface: a real headless Chromium (Debian's
// chromium, or FLOW_CHROMIUM) driven by chromedp against a real flowd
// with real runs. Without a browser they skip, and fail in CI
// (FLOW_REQUIRE_INTEGRATION=1). FLOW_WEB_SCREENSHOTS=DIR writes the
// screenshots the README shows (docs/web-*.png) into DIR.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/flow-cwl/flow/internal/testcluster"
	"github.com/flow-cwl/flow/internal/testenv"
	"github.com/flow-cwl/flow/server/store"
)

// browser starts a headless Chromium for the test; pages opened on it
// with newPage each have their own cookies (a browser context each).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("FLOW_CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			testenv.SkipOrFail(t, "no chromium to run the browser tests with (apt-get install chromium, or set FLOW_CHROMIUM)")
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// A closed network: nothing to fetch, nothing to retry.
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-pings", true), chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("disable-site-isolation-trials", true), chromedp.Flag("disable-features", "site-per-process,Translate,BlinkGenPropertyTrees"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil {
		cancelRoot()
		cancelAlloc()
		t.Fatalf("cannot start %s: %v", path, err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	return root
}

// page is one browser tab with its own cookies, on a daemon.
type page struct {
	t   *testing.T
	ctx context.Context
	d   *daemon
}

func newPage(t *testing.T, root context.Context, d *daemon) *page {
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab, which lives as long as that run's
	// context: this one, not a step's with a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot open a tab: %v", err)
	}
	return &page{t: t, ctx: ctx, d: d}
}

// timeout bounds each step of a page; the runs behind them are short.
const pageTimeout = 90 * time.Second

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %v\npage: %s\n%s", err, p.eval(`location.href + ' ' + document.body.innerText.slice(0, 1000)`), p.d.log.String())
	}
}

// eval returns a JavaScript expression's value as JSON.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return string(v)
}

// wait waits until the expression is true in the page.
func (p *page) wait(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(pageTimeout))); err != nil {
		body := p.eval(`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 2000) : ''`)
		p.t.Fatalf("waiting for %s: %v\npage: %s\n%s", what, err, body, p.d.log.String())
	}
}

// text returns a JavaScript expression's value as a Go string.
func (p *page) text(expr string) string {
	p.t.Helper()
	var s string
	if err := json.Unmarshal([]byte(p.eval(expr)), &s); err != nil {
		p.t.Fatalf("%s is not a string: %v", expr, err)
	}
	return s
}

func (p *page) open(hash string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.d.url + "/" + hash))
}

// signIn opens the interface and signs in with the token.
func (p *page) signIn(token string) {
	p.t.Helper()
	p.open("#/runs")
	p.do(chromedp.WaitVisible(chromedp.CSS("#token")), chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS(".signin button[type=submit]")))
	p.wait("the runs page after signing in", `!document.getElementById('nav').hidden && !!document.getElementById('runs')`)
}

// signedOut reports whether the page shows the sign-in form.
func (p *page) signedOut() bool {
	return p.eval(`!!document.getElementById('token')`) == "true"
}

// screenshot writes the page to DIR/name when FLOW_WEB_SCREENSHOTS=DIR.
func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("FLOW_WEB_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, pageTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// namedToken creates a token with a name, as "submitted by" shows it.
func (d *daemon) namedToken(team, role, name string) string {
	d.t.Helper()
	out, err := d.command("token", "create", "--team", team, "--role", role, "--name", name, "--data-dir", d.dataDir).Output()
	if err != nil {
		d.t.Fatalf("flowd token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// webWorkflow is a workflow of the web tests, in server/testdata/web.
func webWorkflow(name string) string { return filepath.Join("../../server/testdata/web", name) }

// registerLaunch registers server/testdata/web/launch.cwl as count 1.0:
// a File, an enum, an array and an int with a default.
func (d *daemon) registerLaunch(token string) {
	d.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("workflow_url", "launch.cwl")
	for _, f := range []string{"launch.cwl", "count.cwl"} {
		data, err := os.ReadFile(filepath.Join("../../server/testdata/web", f))
		if err != nil {
			d.t.Fatal(err)
		}
		part, _ := w.CreateFormFile("workflow_attachment", f)
		part.Write(data)
	}
	w.Close()
	if status, body := d.request("POST", "/api/v1/workflows?name=count&version=1.0", token, buf.Bytes(), w.FormDataContentType()); status != 201 {
		d.t.Fatalf("register: %d %s", status, body)
	}
}

// jobs are a run's latest attempts as the API lists them.
func (d *daemon) jobs(token, id string) map[string]string {
	d.t.Helper()
	_, body := d.request("GET", "/api/v1/runs/"+id+"/steps", token, nil, "")
	var as []struct{ Job, State string }
	if err := json.Unmarshal(body, &as); err != nil {
		d.t.Fatalf("steps: %v %s", err, body)
	}
	out := map[string]string{}
	for _, a := range as {
		out[a.Job] = a.State
	}
	return out
}

// The interface end to end, as a team uses it.
func TestWebInterface(t *testing.T) {
	root := browser(t)
	d := newDaemon(t)
	operator := d.namedToken("genomics", "operator", "alice laptop")
	viewer := d.token("genomics", "viewer")
	admin := d.token("genomics", "admin")
	stranger := d.token("chemistry", "operator")
	d.start()
	shots := os.Getenv("FLOW_WEB_SCREENSHOTS") != ""

	op := newPage(t, root, d)
	op.signIn(operator)

	// The runs list shows a run the CLI submits, and its end, live.
	env := []string{"FLOW_URL=" + d.url, "FLOW_TOKEN=" + operator}
	cli := make(chan string, 1)
	go func() {
		_, out, stderr := flow(t, env, "run", "--run_compute", "--quiet", "--outdir", t.TempDir(), webWorkflow("scatter.cwl"),
			"--samples", "liver", "--samples", "kidney", "--samples", "heart")
		cli <- out + stderr
	}()
	op.wait("the CLI's run in the list", `document.querySelectorAll('#runs-body tr[data-run]').length === 1`)
	op.wait("the CLI's run complete in the list", `!!document.querySelector('#runs-body tr[data-state="COMPLETE"]')`)
	<-cli
	id := op.text(`document.querySelector('#runs-body tr[data-run]').dataset.run`)

	// The run page: every step's final state in the graph, every job in
	// the timeline, a job's log.
	jobs := d.jobs(operator, id)
	op.open("#/runs/" + id)
	op.wait("the finished run's page", `document.querySelector('main').dataset.finished === 'true' && !!document.querySelector('#graph svg')`)
	steps := map[string]bool{}
	for job := range jobs {
		if parts := strings.Split(job, "/"); len(parts) > 1 {
			steps[parts[1]] = true
		}
	}
	var shown map[string]string
	json.Unmarshal([]byte(op.eval(`Object.fromEntries([...document.querySelectorAll('#graph g.step')].map(g => [g.dataset.key.slice(5), g.dataset.state + ' ' + g.textContent]))`)), &shown)
	if len(shown) != len(steps) || len(steps) != 2 {
		t.Errorf("the graph shows steps %v; the run has %v", shown, steps)
	}
	for step := range steps {
		if !strings.HasPrefix(shown[step], "succeeded ") || !strings.Contains(shown[step], "✓ done") {
			t.Errorf("step %s in the graph: %q, want succeeded with the word done", step, shown[step])
		}
	}
	if !strings.Contains(shown["greet"], "3/3 done · 0 running · 0 failed") {
		t.Errorf("the scatter step shows %q, not its counts", shown["greet"])
	}
	var listed []string
	json.Unmarshal([]byte(op.eval(`[...document.querySelectorAll('#jobs tbody tr')].map(tr => tr.dataset.job)`)), &listed)
	if len(listed) != len(jobs) {
		t.Errorf("the timeline lists %v; the run's jobs are %v", listed, jobs)
	}
	for _, j := range listed {
		if _, ok := jobs[j]; !ok {
			t.Errorf("the timeline lists %s, not a job of the run", j)
		}
	}
	job, wantLog := "", []byte(nil) // a job whose log the daemon still has
	for _, j := range listed {
		if status, log := d.request("GET", "/api/v1/runs/"+id+"/logs/"+j, operator, nil, ""); status == 200 && len(bytes.TrimSpace(log)) > 0 {
			job, wantLog = j, log
			break
		}
	}
	if job == "" {
		t.Fatalf("no job of run %s has a log to show", id)
	}
	op.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-job=%q] button`, job))))
	op.wait("the job's stderr", `document.getElementById('stderr') && document.getElementById('stderr').textContent !== ''`)
	if got := op.text(`document.getElementById('stderr').textContent`); !strings.Contains(got, strings.TrimSpace(strings.SplitN(string(wantLog), "\n", 2)[0])) {
		t.Errorf("the job's log shows %q; the API has %q", got, wantLog)
	}
	// The run's provenance downloads, with the session's cookie.
	for _, link := range []string{"provenance", "ro-crate"} {
		got := op.eval(`fetch(document.querySelector('.actions a[href$="/` + link + `"]').href).then(async r => r.status + ' ' + (await r.text()).slice(0, 40))`)
		if !strings.HasPrefix(got, `"200 `) || (link == "provenance" && !strings.Contains(got, "{")) || (link == "ro-crate" && !strings.Contains(got, "PK")) {
			t.Errorf("the %s download: %s", link, got)
		}
	}

	// Lineage: from the output file, the jobs and files that made it, each
	// job linking to its place in the run.
	op.do(chromedp.Click(chromedp.CSS(`#files ul.outputs a[href^="#/lineage/"]`)))
	op.wait("the lineage of summary.txt", `!!document.querySelector('#lineage-graph svg') && document.querySelectorAll('ul.lineage a').length === 4`)
	if got := op.text(`[...document.querySelectorAll('ul.lineage a')].map(a => a.textContent).sort().join(' ')`); got != "main/gather main/greet/0 main/greet/1 main/greet/2" {
		t.Errorf("the lineage's jobs: %s", got)
	}
	op.do(chromedp.Click(chromedp.CSS(`ul.lineage a`)))
	op.wait("the run page at the gather job", `location.hash.includes('job=main%2Fgather') && (document.getElementById('details-h') || {}).textContent === 'Job main/gather'`)

	// The keyboard reaches a step of the graph: focused, Enter shows its job.
	op.do(chromedp.Focus(chromedp.CSS(`#graph g[data-key="step:gather"]`)), chromedp.KeyEvent("\r"))
	op.wait("the gather job's details, by keyboard", `document.getElementById('details-h').textContent === 'Job main/gather'`)
	op.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#jobs tr[data-job=%q] button`, job))))
	op.wait("the first job again", `document.getElementById('details-h').textContent === 'Job `+job+`'`)
	if shots {
		op.do(chromedp.EmulateViewport(1280, 1400))
		op.screenshot("web-run.png")
		op.do(chromedp.EmulateViewport(1280, 900))
	}

	// Launch: a form for a registered workflow with a File upload, an
	// enum and an array, whose run completes.
	d.registerLaunch(admin)
	reads := filepath.Join(t.TempDir(), "sample.fa")
	os.WriteFile(reads, []byte(">a\nACGT\n>b\nTTGA\n>c\nGGGG\n"), 0o644)
	op.open("#/launch/count?version=1.0")
	op.wait("the launch form", `!!document.getElementById('launch-form')`)
	op.do(chromedp.SetUploadFiles(chromedp.CSS(`[data-input=reads] input[type=file]`), []string{reads}))
	op.do(chromedp.SetValue(chromedp.CSS(`[data-input=mode] select`), "exact"))
	for _, name := range []string{"liver", "kidney"} {
		op.do(chromedp.Click(chromedp.CSS(`[data-input=names] .array > button`)))
		op.do(chromedp.SendKeys(chromedp.CSS(`[data-input=names] li:last-child input`), name))
	}
	if got := op.eval(`document.querySelector('[data-input=threads] input').value`); got != `"2"` {
		t.Errorf("the int input's default: %s", got)
	}
	op.screenshot("web-launch.png")
	op.do(chromedp.Click(chromedp.CSS(`#launch-submit`)))
	op.wait("the launched run's page", `location.hash.startsWith('#/runs/') && document.querySelector('main').dataset.finished === 'true'`)
	launched := strings.TrimPrefix(op.text(`location.hash`), "#/runs/")
	if state := d.waitState(operator, launched, time.Minute); state != "COMPLETE" {
		t.Fatalf("the launched run: %s", state)
	}
	if _, report := d.request("GET", "/api/v1/runs/"+launched+"/files/report.txt", operator, nil, ""); string(report) != "mode exact, names liver kidney\n6\n" {
		t.Errorf("the launched run's report: %q", report)
	}
	op.wait("the uploaded input's link", `!!document.querySelector('#files ul.inputs a')`)
	if got := op.eval(`fetch(document.querySelector('#files ul.inputs a').href).then(r => r.text())`); got != `">a\nACGT\n>b\nTTGA\n>c\nGGGG\n"` {
		t.Errorf("the uploaded input downloads as %s", got)
	}
	// Run again: the same workflow, inputs and uploads, as a new run.
	op.do(chromedp.Click(chromedp.CSS("#rerun")))
	op.wait("the re-run's page", `location.hash.startsWith('#/runs/') && !location.hash.includes('`+launched+`') && document.querySelector('main').dataset.finished === 'true'`)
	again := strings.TrimPrefix(op.text(`location.hash`), "#/runs/")
	if _, report := d.request("GET", "/api/v1/runs/"+again+"/files/report.txt", operator, nil, ""); string(report) != "mode exact, names liver kidney\n6\n" {
		t.Errorf("the re-run's report: %q", report)
	}
	if title := op.text(`document.title`); !strings.HasSuffix(title, " · flowd") || !strings.Contains(title, "count@1.0") {
		t.Errorf("the run page's title: %q", title)
	}
	// An empty required input is caught before anything is sent.
	op.open("#/launch/count?version=1.0")
	op.wait("the launch form", `!!document.getElementById('launch-form')`)
	op.do(chromedp.Click(chromedp.CSS(`#launch-submit`)))
	op.wait("the form's error", `document.querySelector('[data-input=reads] .error').textContent.includes('required')`)

	// Cancel: an operator's button works; a viewer has none.
	sleeper := d.submit(operator, form{fields: [][2]string{{"workflow_url", "tool.cwl"}},
		files: [][2]string{{"tool.cwl", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sleep, '300']\ninputs: []\noutputs: []\n"}}})
	view := newPage(t, root, d)
	view.signIn(viewer)
	view.open("#/runs/" + sleeper)
	view.wait("the running run's page for a viewer", `!!document.querySelector('.runhead h1') && !!document.querySelector('.actions a')`)
	if view.eval(`!!document.getElementById('cancel') || !!document.getElementById('rerun')`) != "false" {
		t.Error("a viewer is offered cancel or re-run")
	}
	op.open("#/runs/" + sleeper)
	op.wait("the cancel button", `!!document.getElementById('cancel')`)
	op.do(chromedp.Click(chromedp.CSS("#cancel")), chromedp.Click(chromedp.CSS("#cancel"))) // the second click confirms
	op.wait("the run canceled", `document.querySelector('.runhead h1').textContent.includes('canceled')`)

	// A run's page follows it live: the scatter step is running, its done
	// count grows, and it ends done.
	samples := make([]string, 150)
	for i := range samples {
		samples[i] = fmt.Sprintf("s%03d", i)
	}
	params, _ := json.Marshal(map[string]any{"samples": samples})
	var wfFiles [][2]string
	for _, f := range []string{"scatter.cwl", "greet.cwl", "gather.cwl"} {
		data, _ := os.ReadFile(webWorkflow(f))
		wfFiles = append(wfFiles, [2]string{f, string(data)})
	}
	live := d.submit(operator, form{fields: [][2]string{{"workflow_url", "scatter.cwl"}, {"workflow_params", string(params)}}, files: wfFiles})
	op.open("#/runs/" + live)
	op.wait("the scatter step running with jobs done", `(() => { const g = document.querySelector('#graph g[data-key="step:greet"]');
		return !!g && g.dataset.state === 'running' && /[1-9]\d*\/\d+ done/.test(g.textContent); })()`)
	op.wait("the scatter step done", `(() => { const g = document.querySelector('#graph g[data-key="step:greet"]');
		return !!g && g.dataset.state === 'succeeded' && g.textContent.includes('150/150 done'); })()`)
	op.wait("the run complete", `document.querySelector('main').dataset.finished === 'true'`)

	if shots { // the list now holds runs of every kind
		op.open("#/runs")
		op.wait("the runs", `document.querySelectorAll('#runs-body tr[data-run]').length === 5`)
		op.screenshot("web-runs.png")
	}

	// Another team's run is not reachable by its URL.
	other := newPage(t, root, d)
	other.signIn(stranger)
	other.open("#/runs/" + id)
	other.wait("the other team's answer", `!!document.querySelector('main .error')`)
	if got := other.text(`document.querySelector('main').innerText`); !strings.Contains(got, "not found") || strings.Contains(got, "fasta") {
		t.Errorf("another team's run by URL: %s", got)
	}

	// Admin: a new token's secret is shown once, an SSH key's public half,
	// the team's usage; Systems: how jobs are confined.
	adm := newPage(t, root, d)
	adm.signIn(admin)
	adm.open("#/admin")
	adm.wait("the admin page", `!!document.getElementById('tokens') && !!document.getElementById('usage-h')`)
	adm.do(chromedp.SendKeys(chromedp.CSS("#tok-name"), "robot"), chromedp.SetValue(chromedp.CSS("#tok-role"), "viewer"),
		chromedp.Click(chromedp.CSS(`#tok-name ~ button[type=submit]`)))
	adm.wait("the new token's secret", `(document.getElementById('tok-secret') || {}).value > ''`)
	secret := adm.text(`document.getElementById('tok-secret').value`)
	if status, _ := d.request("GET", "/api/v1/runs", secret, nil, ""); status != 200 || !strings.HasPrefix(secret, "flowd_") {
		t.Errorf("the token the admin page made does not read: %d %q", status, secret)
	}
	adm.do(chromedp.SendKeys(chromedp.CSS("#key-name"), "hpc1"), chromedp.Click(chromedp.CSS(`#key-name ~ button[type=submit]`)))
	adm.wait("the new key's public half", `document.querySelector('.keys') && document.querySelector('.keys').textContent.includes('ssh-ed25519 ')`)
	if usage := adm.text(`document.getElementById('usage-h').parentElement.textContent`); !strings.Contains(usage, "count: 2") { // the launch and its re-run
		t.Errorf("the usage: %s", usage)
	}
	adm.open("#/systems")
	adm.wait("the systems page", `document.querySelector('main').textContent.includes('Jobs on this machine run')`)
	if view.eval(`document.getElementById('nav-admin').hidden`) != "true" {
		t.Error("a viewer is shown the admin page's link")
	}

	// Signing out ends the session: the cookie no longer reads.
	op.open("#/runs")
	op.wait("the runs page", `!!document.getElementById('runs-body')`)
	op.do(chromedp.Click(chromedp.CSS("#signout")))
	op.wait("the sign-in form", `!!document.getElementById('token')`)
	if got := op.eval(`fetch('/api/v1/runs').then(r => r.status)`); got != "401" {
		t.Errorf("the API after signing out answers %s, want 401", got)
	}

	// Revoking the token ends its session, and the page, following the
	// team's events, shows the sign-in form by itself.
	view.open("#/runs")
	view.wait("the viewer's runs page", `!!document.getElementById('runs-body')`)
	_, body := d.request("GET", "/api/v1/tokens", admin, nil, "")
	var toks []struct{ ID, Role string }
	json.Unmarshal(body, &toks)
	for _, tk := range toks {
		if tk.Role == "viewer" {
			if status, _ := d.request("DELETE", "/api/v1/tokens/"+tk.ID, admin, nil, ""); status != 204 {
				t.Fatalf("revoke: %d", status)
			}
		}
	}
	view.wait("the sign-in form after revocation", `!!document.getElementById('token')`)
	if strings.Contains(d.log.String(), operator) || strings.Contains(d.log.String(), viewer) {
		t.Error("the daemon's log holds a token")
	}
}

// inert checks that nothing a run holds ran as script or became markup on
// the page: no flag set, no policy violation (an inline handler the
// policy blocked would count one), no image, script or javascript: link
// in the page's content.
func (p *page) inert(where string) {
	p.t.Helper()
	got := p.eval(`JSON.stringify({pwned: window.flowPwned === undefined ? null : window.flowPwned, csp: window.flowCSPViolations,
		markup: document.querySelectorAll('main img, main script, main iframe, a[href^="javascript"], [onerror], [onclick]').length})`)
	if got != `"{\"pwned\":null,\"csp\":0,\"markup\":0}"` {
		p.t.Errorf("%s: the hostile run was not inert: %s", where, got)
	}
}

// A hostile run: markup and script in its document's name, step names,
// output names, file names and log lines are shown as text, and nothing
// runs.
func TestWebHostileRunIsInert(t *testing.T) {
	root := browser(t)
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	d.start()
	doc := func(name string) string {
		data, err := os.ReadFile(webWorkflow(name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	main := `<img src=x onerror=window.flowPwned=4>.cwl`
	id := d.submit(tok, form{
		fields: [][2]string{{"workflow_url", main}, {"workflow_params", `{"samples": ["\"><img src=x onerror=window.flowPwned=3>", "javascript:window.flowPwned=6"]}`},
			{"tags", `{"note": "<script>window.flowPwned=10</script>"}`}},
		files: [][2]string{{main, doc("hostile.cwl")}, {"greet.cwl", doc("greet.cwl")}, {"gather.cwl", doc("gather.cwl")}},
	})
	if state := d.waitState(tok, id, 2*time.Minute); state != "COMPLETE" {
		t.Fatalf("the hostile run: %s", state)
	}
	p := newPage(t, root, d)
	p.signIn(tok)
	p.wait("the hostile run in the list", `!!document.querySelector('#runs-body tr[data-run]')`)
	if got := p.text(`document.getElementById('runs-body').textContent`); !strings.Contains(got, `<img src=x onerror=window.flowPwned=4>.cwl`) {
		t.Errorf("the list does not show the document's name as text: %s", got)
	}
	p.inert("the runs list")

	p.open("#/runs/" + id)
	p.wait("the hostile run's page", `document.querySelector('main').dataset.finished === 'true' && !!document.querySelector('#files li')`)
	graph := p.text(`document.getElementById('graph').textContent`)
	for _, want := range []string{`<img src=x onerror=window.flowPwned=1>`, `javascript:window.flowPwned=2`, `<script>window.flowPwned=7`} {
		if !strings.Contains(graph, want) {
			t.Errorf("the graph does not show the step %s as text: %s", want, graph)
		}
	}
	if files := p.text(`document.getElementById('files').textContent`); !strings.Contains(files, `"><img src=x onerror=window.flowPwned=3>.txt`) {
		t.Errorf("the outputs do not show the file name as text: %s", files)
	}
	p.do(chromedp.Click(chromedp.CSS(`#jobs tr[data-job^="main/<script>"] button`)))
	p.wait("the hostile log", `((document.getElementById('stderr') || {}).textContent || '').includes('flowPwned=9')`)
	if got := p.text(`document.getElementById('stderr').textContent`); !strings.Contains(got, `<script>window.flowPwned=7</script>`) {
		t.Errorf("the log is not shown as text: %s", got)
	}
	p.inert("the run page")

	p.open("#/lineage/" + id + "/" + url.PathEscape(`"><img src=x onerror=window.flowPwned=3>.txt`))
	p.wait("the lineage graph", `!!document.querySelector('#lineage-graph svg')`)
	p.inert("the lineage page")

	// The check can fail: markup put in the page as HTML is blocked by the
	// policy, and counted.
	p.eval(`document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x onerror="window.flowPwned=11">'), 0`)
	p.wait("a policy violation", `window.flowCSPViolations > 0`)
	if got := p.eval(`window.flowPwned === undefined`); got != "true" {
		t.Errorf("an inline handler ran despite the policy: %s", got)
	}
}

// The interface at scale: a runs list of 10,000 runs, and the page of a
// 1,000-way scatter run. The figures are printed (go test -v), not
// asserted: the machine may be busy.
func TestWebScale(t *testing.T) {
	if testing.Short() {
		t.Skip("a 1,000-job run and 10,000 recorded runs")
	}
	root := browser(t)
	d := newDaemon(t)
	tok := d.token("genomics", "operator")
	st, err := store.Open(d.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-10000 * time.Minute).UTC()
	for i := range 10000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		state := store.StateComplete
		if i%7 == 0 {
			state = store.StateExecutorError
		}
		r := &store.Run{ID: at.Format("20060102T150405.000Z") + fmt.Sprintf("-b%05d", i), Team: "genomics", Owner: "bulk",
			Name: fmt.Sprintf("align@%d", i%3), Workflow: "wf.cwl", State: state, Submitted: at, Started: at, Finished: at.Add(30 * time.Second)}
		if err := st.CreateRun(r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	d.start()

	samples := make([]string, 1000)
	for i := range samples {
		samples[i] = fmt.Sprintf("s%04d", i)
	}
	params, _ := json.Marshal(map[string]any{"samples": samples})
	files := [][2]string{}
	for _, f := range []string{"scatter.cwl", "greet.cwl", "gather.cwl"} {
		data, _ := os.ReadFile(webWorkflow(f))
		files = append(files, [2]string{f, string(data)})
	}
	started := time.Now()
	id := d.submit(tok, form{fields: [][2]string{{"workflow_url", "scatter.cwl"}, {"workflow_params", string(params)}}, files: files})
	if state := d.waitState(tok, id, 15*time.Minute); state != "COMPLETE" {
		t.Fatalf("the 1,000-way scatter: %s", state)
	}
	t.Logf("web scale: the 1,000-way scatter ran in %v", time.Since(started).Round(time.Second))

	p := newPage(t, root, d)
	p.signIn(tok)
	for i := range 3 {
		p.do(chromedp.Navigate("about:blank")) // each load a fresh page
		p.open("#/runs")
		p.wait("the first page of 10,001 runs", `window.flowRunsShownAt > 0 && document.querySelectorAll('#runs-body tr[data-run]').length === 50`)
		t.Logf("web scale: runs list of 10,001 runs, load %d: shown %s ms after navigation (API call and drawing: %s ms)", i+1,
			p.eval(`Math.round(window.flowRunsShownAt)`), p.eval(`Math.round(window.flowRunsLoadedMs)`))
	}
	first := p.text(`document.querySelector('#runs-body tr[data-run]').dataset.run`)
	p.do(chromedp.Click(chromedp.CSS("#older")))
	p.wait("the second page", `document.getElementById('runs-info').textContent.startsWith('Page 2')`)
	if second := p.text(`document.querySelector('#runs-body tr[data-run]').dataset.run`); second == first {
		t.Error("the second page starts with the first page's run")
	}
	t.Logf("web scale: the next page: %s ms", p.eval(`Math.round(window.flowRunsLoadedMs)`))
	p.open("#/runs?q=b09990&state=COMPLETE")
	p.wait("a filtered list", `window.flowRunsShownAt > 0 && document.getElementById('runs-info').textContent === 'Page 1: 1 runs.'`)
	t.Logf("web scale: text and state filter over 10,001 runs: %s ms", p.eval(`Math.round(window.flowRunsLoadedMs)`))

	p.do(chromedp.Navigate("about:blank"))
	p.open("#/runs/" + id)
	p.wait("the scatter run's page", `window.flowRunShownAt > 0 && document.querySelectorAll('#jobs tbody tr').length === 1001`)
	if g := p.text(`document.querySelector('#graph g[data-key="step:greet"]').textContent`); !strings.Contains(g, "1000/1000 done") {
		t.Errorf("the scatter step shows %q", g)
	}
	t.Logf("web scale: the 1,000-way scatter's page shown %s ms after navigation; drawing graph and timeline takes %s ms",
		p.eval(`Math.round(window.flowRunShownAt)`), p.eval(`Math.round(window.flowRunDrawnMs)`))
	click := p.eval(`new Promise((done) => {
		const t0 = performance.now();
		document.querySelector('#jobs tbody tr:nth-child(500) button').click();
		const check = () => {
			const e = document.getElementById('stderr');
			if (e && e.textContent.includes('greeting')) done(Math.round(performance.now() - t0)); else requestAnimationFrame(check);
		};
		check();
	})`)
	frame := p.eval(`new Promise((done) => { const t0 = performance.now(); requestAnimationFrame(() => requestAnimationFrame(() => done(Math.round(performance.now() - t0)))); })`)
	t.Logf("web scale: on that page, a job's details and log appear %s ms after a click; two animation frames take %s ms", click, frame)
}

// Under TLS the session cookie is Secure: a browser never sends it over
// plain HTTP.
func TestWebSessionCookieIsSecureUnderTLS(t *testing.T) {
	dir := t.TempDir()
	ca := writeTestPKI(t, dir)
	config := filepath.Join(dir, "flowd.yaml")
	writeFile(t, config, "tls_cert: "+filepath.Join(dir, "cert.pem")+"\ntls_key: "+filepath.Join(dir, "key.pem")+"\n")
	d := newDaemon(t, "--config", config)
	d.url = "https://" + freeAddr(t)
	d.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	tok := d.token("genomics", "viewer")
	d.start()
	resp, err := d.client.Post(d.url+"/api/v1/session", "application/json", strings.NewReader(`{"token": "`+tok+`"}`)) // as the page sends it
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"flowd_session=", "; Secure", "; HttpOnly", "; SameSite=Strict"} {
		if resp.StatusCode != 201 || !strings.Contains(c, want) {
			t.Errorf("sign-in over TLS: %d, cookie %q lacks %q", resp.StatusCode, c, want)
		}
	}
}

// The systems page shows the daemon's clusters as Slurm reports them: the
// test cluster reachable with its partition up, and one that cannot be
// reached, with the reason.
func TestWebSystemsShowsTheClusters(t *testing.T) {
	c := testcluster.Require(t)
	root := browser(t)
	dir := t.TempDir()
	clustersFile := filepath.Join(dir, "clusters.yaml")
	writeFile(t, clustersFile, fmt.Sprintf(`clusters:
  - name: hpc-test
    host: %s
    port: %d
    username: %s
    ssh_key: {path: %s}
    known_hosts: %s
    workdir: %s
  - name: gone
    host: 127.0.0.1
    port: %d
    username: nobody
    ssh_key: {path: %[4]s}
    known_hosts: %[5]s
    workdir: /scratch
`, c.SSHHost, c.SSHPort, c.SSHUser, c.SSHKey, c.SSHKnownHosts, c.WorkDir, freePort(t)))
	config := filepath.Join(dir, "flowd.yaml")
	writeFile(t, config, "clusters: "+clustersFile+"\n")
	d := newDaemon(t, "--config", config)
	tok := d.token("genomics", "viewer")
	d.start()
	p := newPage(t, root, d)
	p.signIn(tok)
	p.open("#/systems")
	p.wait("the clusters", `document.querySelectorAll('#clusters tbody tr').length === 2`)
	rows := p.text(`[...document.querySelectorAll('#clusters tbody tr')].map(tr => tr.innerText.replace(/\s+/g, ' ')).join('\n')`)
	t.Logf("the systems page:\n%s", rows)
	lines := strings.Split(rows, "\n")
	if !strings.HasPrefix(lines[0], "hpc-test ✓ yes") || !strings.Contains(lines[0], "▲ up") || !strings.Contains(lines[0], "free") && !strings.Contains(lines[0], " in ") {
		t.Errorf("the test cluster: %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "gone ✗ no") {
		t.Errorf("the unreachable cluster: %q", lines[1])
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
