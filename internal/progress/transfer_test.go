package progress

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/flow-cwl/flow/internal/testenv"
)

// TestTransferOnStatusLine: downloads in progress show their bytes and
// rate after the counts, and go from the line when they end.
func TestTransferOnStatusLine(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	d := New(Options{Line: &testenv.Buffer{}, Now: c.now, Redraw: time.Hour})
	defer d.Stop()
	line := func() string {
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.counts().line() + d.transferPart()
	}
	d.Transfer("download", "s3://b/a.fq", 0, 512<<20, false)
	if got, want := line(), "flow 0s | running | download 0/512 MiB"; got != want {
		t.Errorf("at the start:\n got %q\nwant %q", got, want)
	}
	c.add(4 * time.Second)
	d.Transfer("download", "s3://b/a.fq", 300<<20, 512<<20, false)
	d.Transfer("download", "https://x/ref.fa", 40<<20, 100<<20, false)
	if got, want := line(), "flow 4s | running | download 340/612 MiB, 85.0 MiB/s"; got != want {
		t.Errorf("two downloads:\n got %q\nwant %q", got, want)
	}
	d.Transfer("download", "s3://b/a.fq", 512<<20, 512<<20, true)
	d.Transfer("download", "https://x/ref.fa", 100<<20, 100<<20, true)
	if got, want := line(), "flow 4s | running"; got != want {
		t.Errorf("after both ended:\n got %q\nwant %q", got, want)
	}
}

// TestTransferInProgressEvent: without a terminal, the progress event
// carries the bytes while a transfer is in progress.
func TestTransferInProgressEvent(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	var buf bytes.Buffer
	d := New(Options{Log: zerolog.New(&buf), Now: c.now, Every: time.Hour})
	defer d.Stop()
	d.Transfer("upload", "s3://out/count.txt", 0, -1, false)
	c.add(2 * time.Second)
	d.Transfer("upload", "s3://out/count.txt", 10<<20, -1, false)
	d.logProgress()
	var ev struct {
		Done  int64 `json:"bytes_done"`
		Total int64 `json:"bytes_total"`
		Rate  int64 `json:"bytes_per_second"`
	}
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil || ev.Done != 10<<20 || ev.Total != -1 || ev.Rate != 5<<20 {
		t.Errorf("progress event %s (%v); want 10 MiB done of an unknown total at 5 MiB/s", buf.String(), err)
	}
}
