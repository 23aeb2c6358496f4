// Package wesapi describes the GA4GH Workflow Execution Service (WES) 1.1
// API that flowd serves under /ga4gh/wes/v1, and checks that what flowd
// says matches the standard.
//
// The story has three parts.
//
// The contract. The official WES 1.1.0 OpenAPI document is embedded,
// unmodified, from spec/ (see spec/README.md for where it came from and
// its Apache 2.0 licence). Document returns its bytes, so flowd may serve
// it at /ga4gh/wes/v1/openapi.yaml. It refers to the GA4GH service-info
// 1.0.0 schema by an absolute URL; a copy of that document is embedded
// too, and LoadDocument resolves the reference from it without touching
// the network.
//
// The shapes. types.go holds Go types for every JSON body flowd produces
// or accepts: ServiceInfo, RunListResponse and RunSummary, RunId,
// RunStatus, RunLog, Log, TaskLog, TaskListResponse, RunRequest,
// ErrorResponse and the State values. JSON names follow the schemas
// exactly. Fields the schemas require are never omitted, and the
// collections they require are written as [] or {} rather than null, so a
// zero value still marshals to a valid body.
//
// The judge. A Validator routes an HTTP exchange to its WES operation and
// checks it against the document with kin-openapi: Response for what a
// server answered, Request for what a client sent (including the
// multipart/form-data body of POST /runs). Failures read like
// "GET /ga4gh/wes/v1/runs/r1 (GetRunLog) 200: ...", naming the path, the
// status and the schema violation. Authentication is deliberately not
// checked: flowd verifies bearer tokens itself.
package wesapi
