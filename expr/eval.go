package expr

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
)

// Errors callers may branch on. Evaluation errors wrap them with %w and
// quote the expression concerned.
var (
	// ErrNeedsJS: the text uses JavaScript (anything beyond a parameter
	// reference) but InlineJavascriptRequirement is not in force.
	ErrNeedsJS = errors.New("JavaScript expressions need InlineJavascriptRequirement")
	// ErrUnterminated: a "$(" or "${" is never closed.
	ErrUnterminated = errors.New("unterminated expression")
	// ErrTimeout: a JavaScript expression ran longer than Options.Timeout.
	ErrTimeout = errors.New("JavaScript timed out")
)

// DefaultTimeout bounds one JavaScript evaluation when Options.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// maxCached bounds each template cache; when full it is emptied and refilled.
const maxCached = 4096

// Options configure an Evaluator for one process.
type Options struct {
	// JavaScript is true when InlineJavascriptRequirement is in force: full
	// JavaScript; otherwise only parameter references are allowed.
	JavaScript bool
	// Lib holds the expressionLib entries (already loaded text). They run
	// once per JavaScript runtime, before any expression. Ignored without
	// JavaScript.
	Lib []string
	// Timeout bounds one JavaScript evaluation; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Context is what one evaluation sees: the globals inputs, self and runtime.
// A nil Inputs or Runtime is an empty object. The values are only read.
type Context struct {
	Inputs  map[string]any
	Self    any
	Runtime map[string]any
}

// Evaluator evaluates the expressions of one process. It is safe for
// concurrent use; create it once per process, not per evaluation, since it
// caches parsed text, compiled JavaScript and JavaScript runtimes.
type Evaluator struct {
	js *jsEngine // nil without JavaScript

	stripped, verbatim templateCache
}

// New prepares an Evaluator. With JavaScript, every expressionLib entry is
// compiled and run once here, and an entry that fails is an error naming it.
func New(opts Options) (*Evaluator, error) {
	e := &Evaluator{}
	if opts.JavaScript {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		js, err := newJSEngine(opts.Lib, timeout)
		if err != nil {
			return nil, err
		}
		e.js = js
	}
	return e, nil
}

// Eval evaluates a field's text. A string without "$(" or "${" is returned
// as is. Otherwise, as in cwltool, leading and trailing whitespace is
// trimmed; if what remains is exactly one expression its value is returned
// with its type (number, object, null ...), else each expression's value is
// spliced into the text (see ToString) and the result is a string.
//
// A parameter reference returns the caller's own value, not a copy (CWL
// values are immutable by convention); a JavaScript result is always new.
func (e *Evaluator) Eval(s string, c Context) (any, error) {
	return e.eval(s, &c, &e.stripped, true)
}

// EvalKeepWhitespace is Eval without trimming: the leading and trailing
// whitespace stay part of the text. CWL uses this where whitespace matters,
// such as InitialWorkDirRequirement file contents, where "$(x)\n" is an
// interpolation ending in a newline, not the value of x.
func (e *Evaluator) EvalKeepWhitespace(s string, c Context) (any, error) {
	return e.eval(s, &c, &e.verbatim, false)
}

func (e *Evaluator) eval(s string, c *Context, cache *templateCache, strip bool) (any, error) {
	if !hasDollar(s) {
		return s, nil
	}
	t, ok := cache.get(s)
	if !ok {
		var err error
		t, err = e.compile(s, strip)
		if err != nil {
			return nil, err
		}
		cache.put(s, t)
	}
	if t.whole {
		return e.evalExpr(t.pieces[0].x, c)
	}
	var b strings.Builder
	for _, p := range t.pieces {
		if p.x == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := e.evalExpr(p.x, c)
		if err != nil {
			return nil, err
		}
		b.WriteString(ToString(v))
	}
	return b.String(), nil
}

// template is a field's text, scanned and parsed once and then cached.
type template struct {
	pieces []tpiece
	whole  bool // the text is exactly one expression: its value keeps its type
}

type tpiece struct {
	lit string
	x   *expression // nil for literal text
}

// expression is one "$(...)" or "${...}".
type expression struct {
	src string
	ref *paramRef // non-nil when src is a parameter reference

	once    sync.Once // compiles prog on first use
	prog    *goja.Program
	progErr error
}

func (e *Evaluator) compile(s string, strip bool) (*template, error) {
	if strip {
		s = strings.TrimSpace(s)
	}
	pieces, err := split(s)
	if err != nil {
		return nil, err
	}
	t := &template{whole: len(pieces) == 1 && pieces[0].expr}
	for _, p := range pieces {
		if !p.expr {
			t.pieces = append(t.pieces, tpiece{lit: p.text})
			continue
		}
		x := &expression{src: p.text}
		if p.text[1] == '(' {
			x.ref, _ = parseParamRef(p.text[2 : len(p.text)-1])
		}
		if x.ref == nil && e.js == nil {
			what := "is not a parameter reference"
			if p.text[1] == '{' {
				what = "is a JavaScript function body"
			}
			return nil, fmt.Errorf("expression %s %s: %w", quote(p.text), what, ErrNeedsJS)
		}
		t.pieces = append(t.pieces, tpiece{x: x})
	}
	return t, nil
}

// evalExpr evaluates one expression. Parameter references are resolved on
// the Go values without JavaScript. When one fails and JavaScript is on,
// the JavaScript verdict counts instead (a missing key is then undefined,
// i.e. null, as in cwltool), so that both ways give the same answer.
func (e *Evaluator) evalExpr(x *expression, c *Context) (any, error) {
	if x.ref != nil {
		v, err := x.ref.resolve(c)
		if err == nil {
			return v, nil
		}
		if e.js == nil {
			return nil, fmt.Errorf("expression %s failed: %w", quote(x.src), err)
		}
	}
	x.once.Do(func() { x.prog, x.progErr = compileJS(x.src) })
	if x.progErr != nil {
		return nil, fmt.Errorf("expression %s is not valid JavaScript: %s", quote(x.src), jsMessage(x.progErr))
	}
	v, err := e.js.run(x.prog, c)
	if err != nil {
		return nil, fmt.Errorf("expression %s failed: %w", quote(x.src), err)
	}
	return v, nil
}

// templateCache maps field text to its template. Processes reuse the same
// few strings for every job, so after warm-up Eval neither scans nor parses
// nor compiles. It is bounded: when full it starts over.
type templateCache struct {
	m sync.Map
	n atomic.Int64
}

func (tc *templateCache) get(s string) (*template, bool) {
	t, ok := tc.m.Load(s)
	if !ok {
		return nil, false
	}
	return t.(*template), true
}

func (tc *templateCache) put(s string, t *template) {
	if tc.n.Add(1) > maxCached {
		tc.m.Clear()
		tc.n.Store(1)
	}
	tc.m.Store(s, t)
}
