package wesapi

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// ValidationError reports an exchange that breaks the WES document.
type ValidationError struct {
	Method    string   // HTTP method of the request
	Path      string   // URL path of the request
	Operation string   // WES operationId, e.g. "GetRunLog"
	Status    int      // response status; 0 when a request was judged
	Problems  []string // one line per violation, each naming where it is
	Err       error    // the kin-openapi error, if any, for errors.As
}

// Error reads like "GET /ga4gh/wes/v1/runs/r1/status (GetRunStatus) 200:
// response body doesn't match schema #/components/schemas/RunStatus:
// at /state: value is not one of the allowed values [...]".
func (e *ValidationError) Error() string {
	judged := "request"
	if e.Status != 0 {
		judged = fmt.Sprint(e.Status)
	}
	return fmt.Sprintf("%s %s (%s) %s: %s", e.Method, e.Path, e.Operation, judged,
		strings.Join(e.Problems, "; "))
}

func (e *ValidationError) Unwrap() error { return e.Err }

// explainer turns kin-openapi errors into readable problems. It re-checks
// anyOf/oneOf branches with the same schema options, because kin-openapi
// does not say why no branch matched.
type explainer struct {
	opts []openapi3.SchemaValidationOption
}

func (x explainer) newError(req *http.Request, route *routers.Route, status int, err error) *ValidationError {
	return &ValidationError{
		Method: req.Method, Path: req.URL.Path, Operation: operationName(route),
		Status: status, Problems: x.problems(err), Err: err,
	}
}

func operationName(route *routers.Route) string {
	if route.Operation != nil && route.Operation.OperationID != "" {
		return route.Operation.OperationID
	}
	return route.Path
}

// problems lists one line per violation, prefixed by the part of the
// exchange it concerns ("response body doesn't match schema ...").
func (x explainer) problems(err error) []string {
	prefix := where(err)
	var out []string
	for _, leaf := range leaves(err) {
		var se *openapi3.SchemaError
		if !errors.As(leaf, &se) {
			out = append(out, err.Error())
			return out
		}
		for _, p := range x.schemaProblems(se, nil) {
			out = append(out, joinNonEmpty(prefix, p))
		}
	}
	return out
}

// where names the part of the exchange an error is about.
func where(err error) string {
	var resp *openapi3filter.ResponseError
	if errors.As(err, &resp) {
		return resp.Reason
	}
	var req *openapi3filter.RequestError
	if errors.As(err, &req) {
		switch {
		case req.Parameter != nil:
			return fmt.Sprintf("parameter %q in %s", req.Parameter.Name, req.Parameter.In)
		case req.RequestBody != nil:
			return "request body"
		}
		return req.Reason
	}
	return ""
}

// schemaProblems explains one schema violation found at prefix.
func (x explainer) schemaProblems(se *openapi3.SchemaError, prefix []string) []string {
	at := append(slices.Clone(prefix), se.JSONPointer()...)
	if inner := schemaLeaves(se.Origin); len(inner) > 0 {
		var out []string
		for _, e := range inner {
			out = append(out, x.schemaProblems(e, at)...)
		}
		return out
	}
	if b := branches(se); len(b) > 0 {
		return x.branchProblems(se, b, at)
	}
	return []string{fmt.Sprintf("at /%s: %s", strings.Join(at, "/"), se.Reason)}
}

func branches(se *openapi3.SchemaError) openapi3.SchemaRefs {
	if se.Schema == nil {
		return nil
	}
	switch se.SchemaField {
	case "anyOf":
		return se.Schema.AnyOf
	case "oneOf":
		return se.Schema.OneOf
	}
	return nil
}

// branchProblems says why the value matched no anyOf/oneOf branch. When
// every branch fails for the same reasons they are given once.
func (x explainer) branchProblems(se *openapi3.SchemaError, refs openapi3.SchemaRefs, at []string) []string {
	var names, whys []string
	for i, ref := range refs {
		var lines []string
		for _, e := range schemaLeaves(ref.Value.VisitJSON(se.Value, x.opts...)) {
			lines = append(lines, x.schemaProblems(e, at)...)
		}
		if len(lines) == 0 {
			lines = []string{"matches"}
		}
		names = append(names, branchName(ref, i))
		whys = append(whys, strings.Join(lines, ", "))
	}
	var detail string
	if len(slices.Compact(slices.Clone(whys))) == 1 {
		detail = "as " + strings.Join(names, " or ") + ": " + whys[0]
	} else {
		for i := range names {
			whys[i] = "as " + names[i] + ": " + whys[i]
		}
		detail = strings.Join(whys, "; ")
	}
	return []string{fmt.Sprintf("at /%s: %s (%s)", strings.Join(at, "/"), se.Reason, detail)}
}

func branchName(ref *openapi3.SchemaRef, i int) string {
	if ref.Ref == "" {
		return fmt.Sprintf("branch %d", i+1)
	}
	return path.Base(ref.Ref)
}

// schemaLeaves returns the schema errors inside err, outermost first.
func schemaLeaves(err error) []*openapi3.SchemaError {
	var out []*openapi3.SchemaError
	for _, leaf := range leaves(err) {
		if se, ok := leaf.(*openapi3.SchemaError); ok {
			out = append(out, se)
		}
	}
	return out
}

// leaves flattens multi-errors and wrappers down to schema errors or to
// errors that wrap nothing further.
func leaves(err error) []error {
	switch e := err.(type) {
	case nil:
		return nil
	case *openapi3.SchemaError:
		return []error{e}
	case openapi3.MultiError:
		var out []error
		for _, inner := range e {
			out = append(out, leaves(inner)...)
		}
		return out
	}
	if inner := errors.Unwrap(err); inner != nil {
		return leaves(inner)
	}
	return []error{err}
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}
