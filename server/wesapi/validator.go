package wesapi

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Validator checks HTTP exchanges against the WES 1.1 document. It is safe
// for concurrent use.
type Validator struct {
	doc     *openapi3.T
	router  routers.Router
	opts    *openapi3filter.Options
	explain explainer
}

// NewValidator loads the embedded WES document and prepares its routes
// under BasePath.
func NewValidator() (*Validator, error) {
	doc, err := LoadDocument()
	if err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("wesapi: routing WES document: %w", err)
	}
	schemaOpts := []openapi3.SchemaValidationOption{
		openapi3.MultiErrors(),
		openapi3.DisableSchemaErrorDetails(),
		openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(absoluteURI)),
	}
	opts := &openapi3filter.Options{
		// flowd checks bearer tokens itself; the validator only judges shapes.
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		// A status the operation does not list (404 on GET /runs) is an error.
		IncludeResponseStatus:   true,
		MultiError:              true,
		SchemaValidationOptions: schemaOpts,
	}
	return &Validator{doc: doc, router: router, opts: opts, explain: explainer{schemaOpts}}, nil
}

// Document returns the parsed WES document the validator judges by; it
// must not be modified.
func (v *Validator) Document() *openapi3.T { return v.doc }

// Response checks that a server's answer to req (its status, headers and
// body) is what the WES operation for req allows. Only req's method and
// URL are used; its body is not read.
func (v *Validator) Response(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.route(req)
	if err != nil {
		return err
	}
	if err := undefinedStatus(route, status); err != nil {
		return &ValidationError{Method: req.Method, Path: req.URL.Path,
			Operation: operationName(route), Status: status, Problems: []string{err.Error()}}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: v.opts,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: v.opts,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return v.explain.newError(req, route, status, err)
	}
	return nil
}

// HTTPResponse checks a response received by an HTTP client, using
// resp.Request for the route. resp.Body is read and replaced, so the
// caller can still read it afterwards.
func (v *Validator) HTTPResponse(resp *http.Response) error {
	if resp.Request == nil {
		return fmt.Errorf("wesapi: response %d has no request to route by", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wesapi: reading response body: %w", err)
	}
	return v.Response(resp.Request, resp.StatusCode, resp.Header, body)
}

// Request checks a client's request: path and query parameters, and for
// POST /runs the multipart/form-data body. req.Body is read and replaced,
// so the request can still be sent or served afterwards.
func (v *Validator) Request(req *http.Request) error {
	route, params, err := v.route(req)
	if err != nil {
		return err
	}
	body, err := drain(req)
	if err != nil {
		return err
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route, Options: v.opts,
	}
	err = openapi3filter.ValidateRequest(req.Context(), input)
	restore(req, body)
	if err != nil {
		return v.explain.newError(req, route, 0, err)
	}
	return nil
}

// route finds the WES operation for req.
func (v *Validator) route(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, nil, fmt.Errorf("wesapi: %s %s: no WES 1.1 operation: %w", req.Method, req.URL.Path, err)
	}
	return route, params, nil
}

// undefinedStatus rejects a status the operation does not define, naming
// the ones it does.
func undefinedStatus(route *routers.Route, status int) error {
	responses := route.Operation.Responses
	if responses.Status(status) != nil || responses.Default() != nil {
		return nil
	}
	defined := slices.Sorted(maps.Keys(responses.Map()))
	return fmt.Errorf("status %d is not defined for this operation (defined: %s)",
		status, strings.Join(defined, ", "))
}

// drain reads req's body so it can be validated and then restored.
func drain(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	restore(req, body)
	if err != nil {
		return nil, fmt.Errorf("wesapi: reading request body: %w", err)
	}
	return body, nil
}

func restore(req *http.Request, body []byte) {
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
}

// absoluteURI checks the "uri" string format: an absolute URI (RFC 3986).
func absoluteURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", s)
	}
	return nil
}
