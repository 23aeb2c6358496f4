package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/dop251/goja"
)

// toJS builds a fresh JavaScript value from a CWL value. Nothing is shared
// with the Go value (goja's own ToValue would wrap maps and slices live, so
// that a script could change the caller's data), which is what isolates
// expressions from the engine's values. Object keys are added in sorted
// order so that Object.keys and JSON.stringify are deterministic.
func toJS(vm *goja.Runtime, v any, depth int) (goja.Value, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("value is nested more than %d levels deep", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return goja.Null(), nil
	case bool, string, int64, int, int32, float64, float32:
		return vm.ToValue(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return vm.ToValue(i), nil
		}
		f, err := x.Float64()
		return vm.ToValue(f), err
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			jv, err := toJS(vm, e, depth+1)
			if err != nil {
				return nil, err
			}
			items[i] = jv
		}
		return vm.NewArray(items...), nil
	case map[string]any:
		return objectToJS(vm, x, depth)
	}
	if g, ok := normalizeReflect(v); ok {
		return toJS(vm, g, depth)
	}
	return nil, fmt.Errorf("a Go %T cannot be passed to JavaScript", v)
}

func objectToJS(vm *goja.Runtime, m map[string]any, depth int) (goja.Value, error) {
	obj := vm.NewObject()
	for _, k := range sortedKeys(m) {
		jv, err := toJS(vm, m[k], depth+1)
		if err != nil {
			return nil, err
		}
		if k == "__proto__" {
			// A plain Set would replace the prototype instead of adding a key.
			err = obj.DefineDataProperty(k, jv, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		} else {
			err = obj.Set(k, jv)
		}
		if err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// errNotJSON marks values JSON has no place for (undefined, functions,
// symbols). Inside objects they are left out and inside arrays they become
// null, as JSON.stringify does; as the whole result only undefined is
// accepted (as null).
var errNotJSON = errors.New("not a JSON value")

// fromJS converts an expression's result back to a CWL value, following
// JSON.stringify (toJSON methods are honoured, boxed primitives unboxed),
// except that NaN and Infinity are errors rather than a silent null, and
// integral numbers become int64.
func fromJS(vm *goja.Runtime, v goja.Value) (any, error) {
	x := exporter{vm: vm}
	out, err := x.value(v, "", 0)
	if errors.Is(err, errNotJSON) {
		if v == nil || goja.IsUndefined(v) {
			return nil, nil
		}
		return nil, fmt.Errorf("result is a %s, which is not a JSON value", typeofJS(v))
	}
	return out, err
}

type exporter struct {
	vm   *goja.Runtime
	path []*goja.Object // objects being converted, to catch cycles
}

func (x *exporter) value(v goja.Value, key string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("result is nested more than %d levels deep", maxDepth)
	}
	if v == nil || goja.IsUndefined(v) {
		return nil, errNotJSON
	}
	if goja.IsNull(v) {
		return nil, nil
	}
	if _, ok := v.(*goja.Symbol); ok {
		return nil, errNotJSON
	}
	obj, ok := v.(*goja.Object)
	if !ok {
		return primitive(v.Export())
	}
	if _, isFunc := goja.AssertFunction(obj); isFunc {
		return nil, errNotJSON
	}
	if toJSON, ok := goja.AssertFunction(obj.Get("toJSON")); ok {
		r, err := toJSON(obj, x.vm.ToValue(key))
		if err != nil {
			return nil, err
		}
		return x.value(r, key, depth+1)
	}
	switch obj.ClassName() { // boxed primitives: new String("a") is "a"
	case "String":
		return obj.String(), nil
	case "Number":
		return jsNumber(obj.ToFloat())
	case "Boolean", "BigInt":
		return primitive(obj.Export())
	}
	for _, o := range x.path {
		if o == obj {
			return nil, fmt.Errorf("result contains a cycle")
		}
	}
	x.path = append(x.path, obj)
	defer func() { x.path = x.path[:len(x.path)-1] }()
	if obj.ClassName() == "Array" {
		return x.array(obj, depth)
	}
	return x.object(obj, depth)
}

func (x *exporter) array(obj *goja.Object, depth int) (any, error) {
	n := obj.Get("length").ToInteger()
	out := make([]any, 0, n)
	for i := int64(0); i < n; i++ {
		k := strconv.FormatInt(i, 10)
		e, err := x.value(obj.Get(k), k, depth+1)
		if err != nil && !errors.Is(err, errNotJSON) {
			return nil, err
		}
		out = append(out, e) // undefined and functions become null
	}
	return out, nil
}

func (x *exporter) object(obj *goja.Object, depth int) (any, error) {
	keys := obj.Keys()
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		e, err := x.value(obj.Get(k), k, depth+1)
		if errors.Is(err, errNotJSON) {
			continue // undefined and functions are left out
		}
		if err != nil {
			return nil, err
		}
		out[k] = e
	}
	return out, nil
}

// primitive converts an exported JavaScript primitive.
func primitive(v any) (any, error) {
	switch p := v.(type) {
	case nil:
		return nil, nil
	case bool, string, int64:
		return p, nil
	case float64:
		return jsNumber(p)
	case *big.Int:
		return nil, fmt.Errorf("result contains a BigInt, which is not a JSON value")
	}
	return nil, fmt.Errorf("result contains a %T, which is not a JSON value", v)
}

// jsNumber maps a JavaScript number to int64 when it is integral (and fits),
// to float64 otherwise.
func jsNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("result contains %s, which is not a JSON number", formatFloat(f, 64))
	}
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f), nil // -0 becomes 0
	}
	return f, nil
}

func typeofJS(v goja.Value) string {
	if _, ok := goja.AssertFunction(v); ok {
		return "function"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "symbol"
	}
	return v.ExportType().String()
}
