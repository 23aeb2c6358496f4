package progress

import (
	"fmt"
	"strings"
	"time"
)

// Transfers of data (remote inputs downloaded before the run, outputs
// uploaded after it) are shown beside the steps while they last: the
// bytes done of the bytes to do, and the rate since the first began.

// transfer is one transfer in progress.
type transfer struct {
	kind        string // "download" or "upload"
	done, total int64  // total < 0: not known
	start       time.Time
}

// Transfer is told how far the transfer of one object (by its name, a
// URL) is; ended forgets it.
func (d *Display) Transfer(kind, name string, done, total int64, ended bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ended {
		delete(d.transfers, name)
		return
	}
	if d.transfers == nil {
		d.transfers = map[string]*transfer{}
	}
	t := d.transfers[name]
	if t == nil {
		t = &transfer{kind: kind, start: d.opts.Now()}
		d.transfers[name] = t
	}
	t.done, t.total = done, total
}

// transferCounts sums the transfers in progress: bytes done, bytes to do
// (-1 if one is not known), the kind of the first, and bytes per second
// since the earliest began (0 until a second has passed).
func (d *Display) transferCounts() (done, total int64, kind string, rate float64) {
	var start time.Time
	for _, t := range d.transfers {
		done += t.done
		if total >= 0 && t.total >= 0 {
			total += t.total
		} else {
			total = -1
		}
		if start.IsZero() || t.start.Before(start) {
			start, kind = t.start, t.kind
		}
	}
	if secs := d.opts.Now().Sub(start).Seconds(); !start.IsZero() && secs >= 1 {
		rate = float64(done) / secs
	}
	return done, total, kind, rate
}

// transferPart is the status line's part for the transfers: " |
// download 120/512 MiB, 85.3 MiB/s"; "" when there are none.
func (d *Display) transferPart() string {
	if len(d.transfers) == 0 {
		return ""
	}
	done, total, kind, rate := d.transferCounts()
	var b strings.Builder
	fmt.Fprintf(&b, " | %s %s", kind, mib(done))
	if total >= 0 {
		fmt.Fprintf(&b, "/%s", mib(total))
	}
	b.WriteString(" MiB")
	if rate > 0 {
		fmt.Fprintf(&b, ", %.1f MiB/s", rate/(1<<20))
	}
	return b.String()
}

func mib(n int64) string { return fmt.Sprint(n >> 20) }
