package server

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/server/store"
)

// The runner turns queued runs into running ones. Each run is a `flow run`
// process of its own (see child.go), so a workflow that crashes takes no
// other run with it, and the daemon itself holds no run state in memory
// that a kill -9 could lose: the store says what was queued or running,
// and starting the same command again continues a run from its provenance
// (finished steps are not run again; Slurm jobs are re-attached).

// Limits bound the runs the daemon runs at once.
type Limits struct {
	Running        int // across all teams; 0 means 4
	RunningPerTeam int // 0 means 2
	QueuedPerTeam  int // unfinished runs a team may have; 0 means 1000
}

type runner struct {
	store   *store.Store
	launch  launchConfig
	limits  Limits
	log     zerolog.Logger
	wake    chan struct{}
	mu      sync.Mutex
	running map[string]*child // by run id
	wg      sync.WaitGroup
	// access gives a run on a cluster the team's key for it, if any.
	access func(run *store.Run, cluster string) (*runAgent, error)
}

func newRunner(s *store.Store, lc launchConfig, l Limits, log zerolog.Logger) *runner {
	if l.Running <= 0 {
		l.Running = 4
	}
	if l.RunningPerTeam <= 0 {
		l.RunningPerTeam = 2
	}
	if l.QueuedPerTeam <= 0 {
		l.QueuedPerTeam = 1000
	}
	return &runner{store: s, launch: lc, limits: l, log: log, wake: make(chan struct{}, 1), running: map[string]*child{},
		access: func(*store.Run, string) (*runAgent, error) { return nil, nil }}
}

// poke asks the runner to look at the queue again.
func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// loop schedules runs until ctx ends, then waits for the children it
// started to be stopped (ctx's end kills them; their runs stay
// unfinished in the store, to be continued at the next start).
func (r *runner) loop(ctx context.Context) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		r.schedule(ctx)
		select {
		case <-ctx.Done():
			r.wg.Wait()
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

// schedule starts what the limits allow, oldest submission first. Runs
// the store calls running that no child of this daemon runs were started
// by a daemon that died: they are started again, and continue.
func (r *runner) schedule(ctx context.Context) {
	runs, err := r.store.Unfinished()
	if err != nil {
		r.log.Error().Err(err).Msg("cannot read the queue")
		return
	}
	slices.SortFunc(runs, func(a, b *store.Run) int { return a.Submitted.Compare(b.Submitted) })
	r.mu.Lock()
	defer r.mu.Unlock()
	perTeam := map[string]int{}
	for id := range r.running {
		perTeam[r.running[id].team]++
	}
	for _, run := range runs {
		if _, ok := r.running[run.ID]; ok {
			continue
		}
		if run.State == store.StateCanceling { // its child died with an earlier daemon
			r.finish(run, store.StateCanceled, "", nil)
			continue
		}
		if len(r.running) >= r.limits.Running || perTeam[run.Team] >= r.limits.RunningPerTeam || ctx.Err() != nil {
			continue
		}
		c, err := r.start(ctx, run)
		if err != nil {
			r.finish(run, store.StateSystemError, err.Error(), nil)
			continue
		}
		r.running[run.ID] = c
		perTeam[run.Team]++
	}
}

// cancel stops a run: a queued one at once, a running one by stopping its
// process (which cancels its jobs).
//
// r.mu is held throughout, so the scheduler cannot start the run meanwhile;
// locks are always taken in that order, r.mu before the store's.
func (r *runner) cancel(team, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	child := r.running[id]
	changed := false
	err := r.store.UpdateRun(team, id, func(run *store.Run) error {
		if run.State.Finished() {
			return nil
		}
		changed = true
		run.State = store.StateCanceling
		if child == nil {
			run.State, run.Finished = store.StateCanceled, time.Now()
		}
		return nil
	})
	switch {
	case err != nil:
		return err
	case child != nil:
		child.stop()
	case changed:
		r.stateEvent(team, id, store.StateCanceled, "")
	}
	return nil
}

// finish records how a run ended.
func (r *runner) finish(run *store.Run, st store.RunState, msg string, outputs map[string]any) {
	err := r.store.UpdateRun(run.Team, run.ID, func(x *store.Run) error {
		if x.State == store.StateCanceling && st != store.StateComplete {
			st = store.StateCanceled
		}
		x.State, x.Error, x.Outputs, x.Finished = st, msg, outputs, time.Now()
		return nil
	})
	if err != nil {
		r.log.Error().Err(err).Str("run", run.ID).Msg("cannot record how the run ended")
		return
	}
	r.stateEvent(run.Team, run.ID, st, msg)
}
