package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLevels(t *testing.T) {
	cases := []struct {
		opts Options
		want []string // messages that must appear, of info, warn, debug
		not  []string
	}{
		{Options{}, []string{"info", "warn"}, []string{"debug"}},
		{Options{Quiet: true}, []string{"warn"}, []string{"info", "debug"}},
		{Options{Debug: true, Quiet: true}, []string{"info", "warn", "debug"}, nil},
	}
	for _, c := range cases {
		var b bytes.Buffer
		log := New(&b, c.opts)
		log.Debug().Msg("msg-debug")
		log.Info().Msg("msg-info")
		log.Warn().Msg("msg-warn")
		for _, w := range c.want {
			if !strings.Contains(b.String(), "msg-"+w) {
				t.Errorf("%+v: %s is missing:\n%s", c.opts, w, b.String())
			}
		}
		for _, n := range c.not {
			if strings.Contains(b.String(), "msg-"+n) {
				t.Errorf("%+v: %s should be dropped:\n%s", c.opts, n, b.String())
			}
		}
	}
}

func TestFormats(t *testing.T) {
	var b bytes.Buffer
	log := New(&b, Options{Format: JSON})
	log.Info().Str("step", "align").Msg("step done")
	var ev map[string]any
	if err := json.Unmarshal(b.Bytes(), &ev); err != nil || ev["step"] != "align" || ev["message"] != "step done" {
		t.Errorf("JSON log line %q: %v", b.String(), err)
	}

	b.Reset()
	log = New(&b, Options{Format: Console})
	log.Info().Str("step", "align").Msg("step done")
	line := b.String()
	if !strings.Contains(line, "step done") || !strings.Contains(line, "step=align") || strings.Contains(line, "\x1b[") {
		t.Errorf("console line to a buffer should be plain text: %q", line)
	}

	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat accepted xml")
	}
}
