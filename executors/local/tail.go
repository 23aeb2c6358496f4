package local

import (
	"bytes"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// tailBytes is how much of the end of stderr a Result carries.
const tailBytes = 4096

// tailBuf keeps the last tailBytes written to it.
type tailBuf struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
}

func (t *tailBuf) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	// Trim in bulk, not on every write, so a chatty task does not turn
	// into one memmove per line.
	if len(t.buf) > 2*tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
		t.truncated = true
	}
	return len(b), nil
}

func (t *tailBuf) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	cut := t.truncated
	if len(b) > tailBytes {
		b, cut = b[len(b)-tailBytes:], true
	}
	return cleanTail(b, cut)
}

// drainBufs recycles drain's read buffers: io.Copy would allocate 32 KiB
// per task, which dominates the cost of a short task.
var drainBufs = sync.Pool{New: func() any { return new([tailBytes]byte) }}

// drain copies the pipe into the tail until the task's side is closed.
func drain(r *os.File, t *tailBuf, done chan<- struct{}) {
	defer close(done)
	buf := drainBufs.Get().(*[tailBytes]byte)
	defer drainBufs.Put(buf)
	for {
		n, err := r.Read(buf[:])
		t.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// finishTail waits for the drain goroutine, but not forever: the task's
// group is dead by now, yet a process that left the group with setsid could
// still hold the pipe open.
func (p *proc) finishTail() string {
	if p.tail == nil {
		return ""
	}
	_ = p.tailPipe.SetReadDeadline(time.Now().Add(time.Second))
	<-p.tailDone
	p.tailPipe.Close()
	return p.tail.String()
}

// fileTail reads the last tailBytes of the task's stderr file and closes it.
func (p *proc) fileTail() string {
	f := p.stderrFile
	if f == nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return ""
	}
	off := max(0, st.Size()-tailBytes)
	b := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(b, off)
	return cleanTail(b[:n], off > 0)
}

// cleanTail makes a cut tail start at a line (or at least a character)
// boundary, so error messages do not open with half a word or rune.
func cleanTail(b []byte, cut bool) string {
	if cut {
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
	}
	return string(b)
}
