package expr

import (
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"
)

// maxCallStack bounds JavaScript recursion so that a runaway recursive
// function fails with a RangeError instead of eating memory until the
// timeout.
const maxCallStack = 10000

// globalNames are the parameter context every expression sees, in the order
// of jsRuntime.vals.
var globalNames = [3]string{"inputs", "self", "runtime"}

// jsRuntime is one goja runtime with the expressionLib loaded. The globals
// inputs, self and runtime are accessor properties that convert the current
// Context's value on first use, so an expression pays only for what it
// reads, and each evaluation gets fresh JavaScript objects.
type jsRuntime struct {
	vm     *goja.Runtime
	ctx    Context                      // a copy, so the caller's Context need not escape to the heap
	active bool                         // an evaluation is running (false while the library loads)
	vals   [len(globalNames)]goja.Value // converted (or assigned) values; nil until used
	timer  *time.Timer                  // interrupts a runaway evaluation
}

func newJSRuntime(libs []*goja.Program, timeout time.Duration) (*jsRuntime, error) {
	rt := &jsRuntime{vm: goja.New()}
	rt.vm.SetMaxCallStackSize(maxCallStack)
	// One timer per runtime, armed for each evaluation.
	rt.timer = time.AfterFunc(time.Hour, func() { rt.vm.Interrupt(ErrTimeout) })
	rt.timer.Stop()
	g := rt.vm.GlobalObject()
	for i, name := range globalNames {
		get := rt.vm.ToValue(func(goja.FunctionCall) goja.Value { return rt.global(i) })
		set := rt.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			rt.vals[i] = call.Argument(0)
			return goja.Undefined()
		})
		if err := g.DefineAccessorProperty(name, get, set, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return nil, err
		}
	}
	// The library is code like any expression: it may loop forever too.
	rt.timer.Reset(timeout)
	defer rt.timer.Stop()
	for i, p := range libs {
		_, err := protect(func() error {
			_, err := rt.vm.RunProgram(p)
			return scriptError(err)
		})
		var interrupted *goja.InterruptedError
		if errors.As(err, &interrupted) {
			return nil, fmt.Errorf("expressionLib entry %d failed: %w after %s", i, ErrTimeout, timeout)
		}
		if err != nil {
			return nil, fmt.Errorf("expressionLib entry %d failed: %w", i, err)
		}
	}
	if !rt.timer.Stop() {
		return nil, fmt.Errorf("expressionLib: %w after %s", ErrTimeout, timeout)
	}
	return rt, nil
}

// global is the getter behind inputs, self and runtime.
func (rt *jsRuntime) global(i int) goja.Value {
	if rt.vals[i] != nil {
		return rt.vals[i]
	}
	if !rt.active {
		return goja.Undefined() // expressionLib top-level code: no context yet
	}
	var v any
	switch i {
	case 0:
		v = nonNilMap(rt.ctx.Inputs)
	case 1:
		v = rt.ctx.Self
	default:
		v = nonNilMap(rt.ctx.Runtime)
	}
	jv, err := toJS(rt.vm, v, 0)
	if err != nil {
		panic(rt.vm.NewTypeError(fmt.Sprintf("%s: %v", globalNames[i], err)))
	}
	rt.vals[i] = jv
	return jv
}

// run evaluates prog against c, interrupting it after timeout. It reports
// whether the runtime may be reused: not when the timer fired (it could
// still interrupt the next evaluation) nor after a panic (the runtime may be
// in any state).
func (rt *jsRuntime) run(prog *goja.Program, c *Context, timeout time.Duration) (result any, reuse bool, err error) {
	rt.ctx, rt.active, rt.vals = *c, true, [len(globalNames)]goja.Value{}
	rt.timer.Reset(timeout)
	result, panicked, err := rt.exec(prog)
	fired := !rt.timer.Stop()
	rt.ctx, rt.active, rt.vals = Context{}, false, [len(globalNames)]goja.Value{} // let the values be collected

	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		return nil, false, fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
	return result, !fired && !panicked, err
}

// exec runs prog and converts the result. Both may run script code
// (toJSON methods, the toString of a thrown value), so both happen here,
// under the timer and under protect.
func (rt *jsRuntime) exec(prog *goja.Program) (result any, panicked bool, err error) {
	panicked, err = protect(func() error {
		v, err := rt.vm.RunProgram(prog)
		if err == nil {
			result, err = fromJS(rt.vm, v)
		}
		return scriptError(err)
	})
	return result, panicked, err
}

// protect runs f and turns a panic into an error. goja reports script
// errors as errors, but Go code touching JavaScript objects outside a call
// (reading a property with a throwing getter) sees them as panics, and no
// panic may leave the package.
func protect(f func() error) (panicked bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			switch x := r.(type) {
			case *goja.InterruptedError:
				err = x
			case *goja.Exception:
				err = errors.New(thrownMessage(x.Value()))
			case goja.Value:
				err = errors.New(thrownMessage(x))
			default:
				err = fmt.Errorf("JavaScript engine failure: %v", r)
			}
		}
	}()
	return false, f()
}

// thrownMessage is the text of a thrown value. Getting it runs the value's
// toString, which may throw in turn, or be interrupted: that is passed on to
// protect, which reports it as a timeout. Callers are all under protect.
func thrownMessage(v goja.Value) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(*goja.InterruptedError); ok {
				panic(r)
			}
			msg = "uncaught JavaScript exception"
		}
	}()
	if v == nil {
		return "uncaught JavaScript exception"
	}
	return v.String()
}

// scriptError reduces a goja error to its message, except an interruption,
// which the caller reports as a timeout.
func scriptError(err error) error {
	var interrupted *goja.InterruptedError
	if err == nil || errors.As(err, &interrupted) {
		return err
	}
	return errors.New(jsMessage(err))
}

// jsMessage is the JavaScript side of an error: "TypeError: ..." for a
// thrown Error, the thrown value's text otherwise, without goja's stack.
func jsMessage(err error) string {
	var overflow *goja.StackOverflowError
	if errors.As(err, &overflow) {
		return "RangeError: Maximum call stack size exceeded"
	}
	var exc *goja.Exception
	if errors.As(err, &exc) {
		return thrownMessage(exc.Value())
	}
	return err.Error()
}

// compileJS compiles one expression, "$(...)" or "${...}", as the CWL spec
// says: $(x) is the expression x, ${body} the body of a function that is
// called at once. Both run in strict mode, as in cwltool. The newline before
// the closing part keeps a trailing // comment from swallowing it.
func compileJS(src string) (*goja.Program, error) {
	inner := src[2 : len(src)-1]
	var code string
	if src[1] == '(' {
		code = "(function(){return (" + inner + "\n);})()"
	} else {
		code = "(function(){" + inner + "\n})()"
	}
	return goja.Compile("expression", code, true)
}
