package staging

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingRemote is diskRemote counting its remote commands.
type countingRemote struct {
	diskRemote
	runs atomic.Int32
}

func (c *countingRemote) Run(ctx context.Context, script string) ([]byte, error) {
	c.runs.Add(1)
	return c.diskRemote.Run(ctx, script)
}

// Scripts asked for together run as one remote command, and each caller
// still gets its own output (any bytes) and its own failure.
func TestScriptsAskedTogetherRunAsOneCommand(t *testing.T) {
	r := &countingRemote{}
	s := &scripts{remote: r, idle: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 40
	errc := make(chan error, n)
	for i := range n {
		go func() {
			if i == 7 {
				_, err := s.Run(ctx, "echo about to fail >&2; exit 3")
				if err == nil || !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "about to fail") {
					errc <- fmt.Errorf("failing script: %v", err)
					return
				}
				errc <- nil
				return
			}
			out, err := s.Run(ctx, fmt.Sprintf(`printf 'a\0b\n%d'`, i))
			if err == nil && string(out) != fmt.Sprintf("a\x00b\n%d", i) {
				err = fmt.Errorf("script %d printed %q", i, out)
			}
			errc <- err
		}()
	}
	for range n {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if got := r.runs.Load(); got > 3 {
		t.Errorf("%d scripts asked for at once took %d remote commands, want one (a few at most)", n, got)
	}
}
