package store

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// crashWriterEnv, set to a data directory, turns this test binary into a
// writer process that records runs there and dies without closing the
// store: crashModeEnv "exit" makes it write 20 runs and os.Exit(1),
// anything else makes it write for ever until the test kills it.
const (
	crashWriterEnv = "FLOWD_STORE_CRASH_WRITER"
	crashModeEnv   = "FLOWD_STORE_CRASH_MODE"
)

// crashWriter records runs from 4 goroutines in teams a and b, a third of
// them finished, printing "team id state" once CreateRun has returned
// (the run is committed).
func crashWriter(dir, mode string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; mode != "exit" || i < 20; i += 4 {
				r := &Run{Team: []string{"a", "b"}[i%2], State: StateQueued, Name: strings.Repeat("x", 500)}
				if i%3 == 0 {
					r.State = StateComplete
				}
				if err := s.CreateRun(r); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Printf("%s %s %s\n", r.Team, r.ID, r.State) // os.Stdout is unbuffered
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(1) // no Close: the process just ends
}

// startWriter runs the test binary as a crash writer and returns its
// command and a scanner over the runs it reports committed.
func startWriter(t *testing.T, dir, mode string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashWriterEnv+"="+dir, crashModeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stdout)
}

// TestExitWithoutCloseKeepsCommittedRuns: a writer that exits without
// closing the store leaves every run it committed, and Unfinished finds
// exactly the unfinished ones of both teams.
func TestExitWithoutCloseKeepsCommittedRuns(t *testing.T) {
	dir := t.TempDir()
	cmd, lines := startWriter(t, dir, "exit")
	committed := map[string]RunState{}
	for lines.Scan() {
		team, rest, _ := strings.Cut(lines.Text(), " ")
		id, state, _ := strings.Cut(rest, " ")
		committed[team+" "+id] = RunState(state)
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("the writer ended with %v, want exit status 1", err)
	}
	if len(committed) != 20 {
		t.Fatalf("the writer reported %d runs, want 20", len(committed))
	}
	s := openStore(t, dir)
	checkCommitted(t, s, committed, true)
}

// TestKillDuringWritesLosesNothingCommitted kills a writer with SIGKILL at
// random moments, three times over the same directory, and checks after
// each kill that the database opens, passes bbolt's consistency check and
// holds every run the writer saw committed.
func TestKillDuringWritesLosesNothingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	dir := t.TempDir()
	committed := map[string]RunState{}
	for round := range 3 {
		runAndKill(t, dir, 30+rand.IntN(100), committed)
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: the store does not open after kill -9: %v", round, err)
		}
		checkCommitted(t, s, committed, false)
		t.Logf("round %d: %d runs committed so far, all there", round, len(committed))
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill starts a writer, lets it commit at least n runs, waits a
// random moment longer, kills it, and adds what it reported to committed.
func runAndKill(t *testing.T, dir string, n int, committed map[string]RunState) {
	t.Helper()
	cmd, lines := startWriter(t, dir, "loop")
	record := func() {
		team, rest, _ := strings.Cut(lines.Text(), " ")
		id, state, _ := strings.Cut(rest, " ")
		committed[team+" "+id] = RunState(state)
	}
	for i := 0; i < n && lines.Scan(); i++ {
		record()
	}
	time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // lines written before the kill were committed too
		record()
	}
	_ = cmd.Wait()
	if status, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !status.Signaled() {
		t.Fatalf("the writer ended on its own (%v) instead of being killed", cmd.ProcessState)
	}
}

// checkCommitted checks the file's consistency, that every committed run
// is there, and that Unfinished lists unfinished runs only, including all
// committed ones (exactly them when exact: a killed writer may have
// committed a run it did not live to report).
func checkCommitted(t *testing.T, s *Store, committed map[string]RunState, exact bool) {
	t.Helper()
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	for k, state := range committed {
		team, id, _ := strings.Cut(k, " ")
		r, err := s.GetRun(team, id)
		if err != nil {
			t.Fatalf("run %s was committed before the crash: %v", k, err)
		}
		if r.State != state {
			t.Fatalf("run %s is %s, was committed as %s", k, r.State, state)
		}
	}
	unfinished, err := s.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, r := range unfinished {
		if r.State.Finished() {
			t.Fatalf("Unfinished lists run %s, which is %s", r.ID, r.State)
		}
		listed[r.Team+" "+r.ID] = true
	}
	want := 0
	for k, state := range committed {
		if !state.Finished() {
			want++
			if !listed[k] {
				t.Fatalf("Unfinished misses committed run %s", k)
			}
		}
	}
	if exact && len(unfinished) != want {
		t.Fatalf("Unfinished lists %d runs, want %d", len(unfinished), want)
	}
}
