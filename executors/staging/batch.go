package staging

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// scripts gathers the small remote scripts that jobs ending together ask
// for (list my output directory, remove my directories) into one remote
// command: a scheduler reports a scatter's jobs ending in bursts, and a
// session per job would queue behind the server's MaxSessions. A batch
// goes once no script has come for idle; each script still gets its own
// stdout and exit status.
type scripts struct {
	remote Remote
	idle   time.Duration

	mu      sync.Mutex
	pending []*scriptCall
	timer   *time.Timer
}

type scriptCall struct {
	script string
	done   chan scriptResult
}

type scriptResult struct {
	out []byte
	err error
}

// maxScriptsPerBatch bounds one command's size.
const maxScriptsPerBatch = 500

// Run runs script in the next batch and returns its stdout; a non-zero
// exit is an error carrying its stderr.
func (s *scripts) Run(ctx context.Context, script string) ([]byte, error) {
	call := &scriptCall{script: script, done: make(chan scriptResult, 1)}
	s.mu.Lock()
	s.pending = append(s.pending, call)
	if len(s.pending) >= maxScriptsPerBatch {
		batch := s.take()
		s.mu.Unlock()
		go s.run(batch)
	} else {
		if s.timer == nil {
			s.timer = time.AfterFunc(s.idle, s.flush)
		} else {
			s.timer.Reset(s.idle)
		}
		s.mu.Unlock()
	}
	select {
	case r := <-call.done:
		return r.out, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *scripts) flush() {
	s.mu.Lock()
	batch := s.take()
	s.mu.Unlock()
	s.run(batch)
}

// take empties the queue; the caller holds s.mu.
func (s *scripts) take() []*scriptCall {
	batch := s.pending
	s.pending = nil
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	return batch
}

// run runs the batch as one command. The command ends when every script
// has; a caller that stopped waiting has its result dropped. It is bounded
// by a generous timeout rather than a caller's ctx, since callers come and
// go while it runs.
func (s *scripts) run(batch []*scriptCall) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Listing and removing are safe to repeat after a dropped connection.
	var out []byte
	err := retry(ctx, s.remote, func() (err error) {
		out, err = s.remote.Run(ctx, batchScript(batch))
		return err
	})
	var parts []part
	if err == nil {
		parts, err = splitParts(out, len(batch))
	}
	for i, c := range batch {
		switch {
		case err != nil:
			c.done <- scriptResult{err: err}
		case parts[i].status != 0:
			c.done <- scriptResult{err: fmt.Errorf("remote command exited with status %d: %s", parts[i].status, strings.TrimSpace(string(parts[i].stderr)))}
		default:
			c.done <- scriptResult{out: parts[i].stdout}
		}
	}
}

// batchScript runs each script in a subshell of its own, its streams in
// files of a private temporary directory, then prints, for each in turn,
// a header line "status stdout-bytes stderr-bytes" and the two streams.
// Lengths, not delimiters, frame the parts: output may hold any byte.
func batchScript(batch []*scriptCall) string {
	var b strings.Builder
	b.WriteString("__flow_t=$(mktemp -d) || exit 1\ntrap 'rm -rf -- \"$__flow_t\"' EXIT\n")
	for i, c := range batch {
		fmt.Fprintf(&b, "( %s\n) >\"$__flow_t/%d.o\" 2>\"$__flow_t/%d.e\" </dev/null; echo $? >\"$__flow_t/%d.s\"\n", c.script, i, i, i)
	}
	fmt.Fprintf(&b, "for i in $(seq 0 %d); do\n", len(batch)-1)
	b.WriteString("\tprintf '%s %s %s\\n' \"$(cat \"$__flow_t/$i.s\")\" \"$(wc -c <\"$__flow_t/$i.o\")\" \"$(wc -c <\"$__flow_t/$i.e\")\"\n")
	b.WriteString("\tcat -- \"$__flow_t/$i.o\" \"$__flow_t/$i.e\"\ndone\n")
	return b.String()
}

type part struct {
	status         int
	stdout, stderr []byte
}

func splitParts(out []byte, n int) ([]part, error) {
	parts := make([]part, 0, n)
	for range n {
		line, rest, ok := bytes.Cut(out, []byte("\n"))
		f := strings.Fields(string(line))
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("the batched remote command printed an unexpected header %q", line)
		}
		var v [3]int
		for j := range f {
			x, err := strconv.Atoi(f[j])
			if err != nil || x < 0 {
				return nil, fmt.Errorf("the batched remote command printed an unexpected header %q", line)
			}
			v[j] = x
		}
		if len(rest) < v[1]+v[2] {
			return nil, fmt.Errorf("the batched remote command's output ends early")
		}
		parts = append(parts, part{status: v[0], stdout: rest[:v[1]], stderr: rest[v[1] : v[1]+v[2]]})
		out = rest[v[1]+v[2]:]
	}
	return parts, nil
}
