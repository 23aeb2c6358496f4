package expr

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// jsEngine runs compiled expressions on a pool of goja runtimes. A goja
// runtime is single-threaded and costly to set up (the expressionLib runs in
// each), so runtimes are created on demand, reused, and never shared by two
// evaluations at once.
//
// The number of runtimes is bounded: more evaluations in flight than CPUs
// gain nothing, and a bound keeps a burst of goroutines from building (and
// then dropping) a runtime each. Callers beyond the bound wait for a runtime
// to come back.
type jsEngine struct {
	libs    []*goja.Program
	timeout time.Duration

	slots chan struct{} // one token per runtime in use or idle
	mu    sync.Mutex
	idle  []*jsRuntime
}

func newJSEngine(libs []string, timeout time.Duration) (*jsEngine, error) {
	e := &jsEngine{
		timeout: timeout,
		slots:   make(chan struct{}, max(4, 2*runtime.GOMAXPROCS(0))),
	}
	for i, src := range libs {
		p, err := goja.Compile(fmt.Sprintf("expressionLib[%d]", i), src, true)
		if err != nil {
			return nil, fmt.Errorf("expressionLib entry %d does not compile: %v", i, err)
		}
		e.libs = append(e.libs, p)
	}
	if len(e.libs) > 0 {
		// Run the library once now, so that a library that throws is
		// reported when the process is loaded, not at its first expression.
		rt, err := e.get()
		if err != nil {
			return nil, err
		}
		e.put(rt, true)
	}
	return e, nil
}

// get lends a runtime, creating one if none is idle.
func (e *jsEngine) get() (*jsRuntime, error) {
	e.slots <- struct{}{}
	e.mu.Lock()
	if n := len(e.idle); n > 0 {
		rt := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return rt, nil
	}
	e.mu.Unlock()
	rt, err := newJSRuntime(e.libs, e.timeout)
	if err != nil {
		<-e.slots
		return nil, err
	}
	return rt, nil
}

// put returns a runtime; reuse is false for one that must be dropped.
func (e *jsEngine) put(rt *jsRuntime, reuse bool) {
	if reuse {
		e.mu.Lock()
		e.idle = append(e.idle, rt)
		e.mu.Unlock()
	}
	<-e.slots
}

// run evaluates a compiled expression against c and converts its result.
func (e *jsEngine) run(prog *goja.Program, c *Context) (any, error) {
	rt, err := e.get()
	if err != nil {
		return nil, err
	}
	result, reuse, err := rt.run(prog, c, e.timeout)
	e.put(rt, reuse)
	return result, err
}
