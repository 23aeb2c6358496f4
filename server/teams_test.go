package server

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flow-cwl/flow/server/store"
)

// A team's directories are reached by its name alone, which must be one
// path component, and they hold only that team's runs.
func TestTeamDirs(t *testing.T) {
	l := layout{dataDir: "/srv/flowd"}
	for _, bad := range []string{"", "..", ".", "../x", "a/b", "/etc", "a\x00b"} {
		if _, err := l.team(bad); err == nil {
			t.Errorf("team %q has directories", bad)
		}
	}
	a, err := l.team("genomics")
	if err != nil {
		t.Fatal(err)
	}
	own := &store.Run{ID: "r1", Team: "genomics", Dir: "/srv/flowd/teams/genomics/runs/r1"}
	rs, err := a.stores(own)
	if err != nil || rs.db != "/srv/flowd/teams/genomics/flow.db" || rs.cache != "/srv/flowd/teams/genomics/cache" || rs.work != "/srv/flowd/teams/genomics/work" {
		t.Errorf("the team's run: %+v %v", rs, err)
	}
	old := &store.Run{ID: "r0", Team: "genomics", Dir: "/srv/flowd/runs/r0"}
	if rs, err := a.stores(old); err != nil || rs.db != "/srv/flowd/flow.db" || rs.cache != "/srv/flowd/cache" {
		t.Errorf("a run from before teams had directories: %+v %v", rs, err)
	}
	for _, r := range []*store.Run{
		{ID: "r2", Team: "imaging", Dir: "/srv/flowd/teams/imaging/runs/r2"},  // another team's
		{ID: "r3", Team: "genomics", Dir: "/srv/flowd/teams/imaging/runs/r3"}, // in another team's directory
		{ID: "r4", Team: "genomics", Dir: "/tmp/r4"},
		{ID: "r5", Team: "genomics", Dir: "/srv/flowd/teams/genomics/runs/../../imaging/runs/r5"},
	} {
		if rs, err := a.stores(r); err == nil {
			t.Errorf("run %s (team %s, dir %s) has stores %+v", r.ID, r.Team, r.Dir, rs)
		}
	}
	if _, err := a.stores(&store.Run{ID: "r2", Team: "imaging", Dir: "/srv/flowd/teams/imaging/runs/r2"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another team's run: %v, want not found", err)
	}
	shared, _ := layout{dataDir: "/srv/flowd", shareCache: true}.team("genomics")
	if rs, _ := shared.stores(own); rs.cache != "/srv/flowd/cache" || rs.cacheIndex != "/srv/flowd/cache.db" || rs.db != "/srv/flowd/teams/genomics/flow.db" {
		t.Errorf("share_cache: %+v", rs)
	}
	if _, err := a.newRunDir("../r"); err == nil {
		t.Error("a run directory named ../r")
	}
	if filepath.Dir(l.agents()) != l.dataDir {
		t.Errorf("agents: %s", l.agents())
	}
}

// A run's command line names its team's stores; a local run is
// sandboxed with the daemon's own files hidden, a run on a cluster is
// not (its jobs run under the cluster account) and keeps flow's cache
// placement.
func TestRunCommandLine(t *testing.T) {
	l := layout{dataDir: "/srv/flowd"}
	lc := launchConfig{Flow: "flow", Layout: l, Sandbox: true, SandboxHide: []string{"/srv/flowd", "/etc/flowd/key.pem"}}
	td, _ := l.team("genomics")
	run := &store.Run{ID: "r1", Team: "genomics", Dir: "/srv/flowd/teams/genomics/runs/r1", Workflow: "wf.cwl", Tags: map[string]string{}}
	rs, err := td.stores(run)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lc.args(run, rs, nil), " ")
	for _, want := range []string{"--db /srv/flowd/teams/genomics/flow.db", "--tmpdir-prefix /srv/flowd/teams/genomics/work",
		"--cache-dir /srv/flowd/teams/genomics/cache", "--outdir /srv/flowd/teams/genomics/runs/r1/outputs",
		"--sandbox --sandbox-hide /srv/flowd --sandbox-hide /etc/flowd/key.pem"} {
		if !strings.Contains(got, want) {
			t.Errorf("local run: no %q in %s", want, got)
		}
	}
	run.Tags[clusterTag] = "hpc1"
	got = strings.Join(lc.args(run, rs, nil), " ")
	if strings.Contains(got, "--sandbox") || strings.Contains(got, "--cache-dir") || !strings.Contains(got, "--db /srv/flowd/teams/genomics/flow.db") {
		t.Errorf("cluster run: %s", got)
	}
	lc.Sandbox = false
	run.Tags = map[string]string{}
	if got := strings.Join(lc.args(run, rs, nil), " "); strings.Contains(got, "--sandbox") {
		t.Errorf("isolation none: %s", got)
	}
}
