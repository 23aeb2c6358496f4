package store

import "sync"

// subscribers are the channels Subscribe handed out, by team.
type subscribers struct {
	mu     sync.Mutex
	byTeam map[string]map[chan struct{}]bool
	closed bool // the Store is closed: no new subscriptions
}

// Subscribe returns a channel that receives a value whenever an event of
// the team has been appended (committed), and a func that ends the
// subscription. Signals coalesce: a subscriber busy reading gets one
// wake-up for any number of appends meanwhile, and never holds up
// AppendEvent. So the channel says "look again", never what happened:
// read Events after the last ID seen. The channel is closed when the
// subscription ends or the Store closes.
func (s *Store) Subscribe(team string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	subs := &s.subs
	subs.mu.Lock()
	defer subs.mu.Unlock()
	if subs.closed {
		close(ch)
		return ch, func() {}
	}
	if subs.byTeam == nil {
		subs.byTeam = map[string]map[chan struct{}]bool{}
	}
	if subs.byTeam[team] == nil {
		subs.byTeam[team] = map[chan struct{}]bool{}
	}
	subs.byTeam[team][ch] = true
	var once sync.Once
	return ch, func() { once.Do(func() { subs.remove(team, ch) }) }
}

func (subs *subscribers) remove(team string, ch chan struct{}) {
	subs.mu.Lock()
	defer subs.mu.Unlock()
	if !subs.byTeam[team][ch] {
		return // closeAll got there first
	}
	delete(subs.byTeam[team], ch)
	if len(subs.byTeam[team]) == 0 {
		delete(subs.byTeam, team)
	}
	close(ch)
}

// signal wakes every subscriber of the team without waiting: a channel
// that already holds a wake-up needs no second one.
func (subs *subscribers) signal(team string) {
	subs.mu.Lock()
	defer subs.mu.Unlock()
	for ch := range subs.byTeam[team] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// closeAll ends every subscription, so that followers waiting on a
// closing Store stop waiting.
func (subs *subscribers) closeAll() {
	subs.mu.Lock()
	defer subs.mu.Unlock()
	subs.closed = true
	for _, chans := range subs.byTeam {
		for ch := range chans {
			close(ch)
		}
	}
	subs.byTeam = nil
}
