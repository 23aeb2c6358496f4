// Package expr evaluates the expressions embedded in CWL documents: the
// parameter references "$(inputs.x)" every engine must support, and, when a
// process declares InlineJavascriptRequirement, JavaScript in "$(...)"
// (an expression) and "${...}" (a function body).
//
// # From text to value
//
// A field's text is first split into literal text and expressions by a
// scanner that follows nesting of parentheses, braces, quotes and template
// literals (scan.go), so that "$(f(')'))" ends where JavaScript says it
// does. The CWL escapes apply outside expressions: `\$(` and `\${` stand for
// the literal characters, `\\` for one backslash. Text without "$(" or "${"
// is never touched.
//
// If the (whitespace-trimmed) text is exactly one expression, Eval returns
// its value with its type, so "$(inputs.n)" is an int64 and "$(inputs.f)" a
// File object. Otherwise every value is converted to text by ToString and
// spliced in, and the result is a string. The text form follows cwltool,
// which the conformance tests were written against: strings as they are,
// other values as JSON laid out like Python's json.dumps with sorted keys,
// numbers as JavaScript prints them.
//
// # Parameter references and JavaScript
//
// References such as inputs.x, inputs['x'], self[0] and runtime.outdir are
// parsed by a small parser (paramref.go) and resolved directly on the Go
// values, without JavaScript, even when JavaScript is enabled: they are by
// far the most common expressions and resolving them costs next to nothing.
// Without InlineJavascriptRequirement anything else is an error wrapping
// ErrNeedsJS.
//
// JavaScript runs in goja (js.go) in strict mode, as cwltool runs it. A
// goja runtime is single-threaded and loading the expressionLib into it
// costs time, so an Evaluator keeps a bounded pool of runtimes with the
// library loaded (pool.go) and lends one to each evaluation. The globals inputs, self and
// runtime are converted into fresh JavaScript objects on first use in each
// evaluation (convert.go): a script may modify them freely without the
// change reaching the caller's Go values or the next evaluation. Results
// come back as JSON.stringify would see them, with integral numbers as int64
// and NaN or Infinity refused. A script that runs longer than the timeout is
// interrupted.
//
// Parsed text and compiled programs are cached per Evaluator, so evaluating
// the same field for thousands of jobs scans and compiles it once. An
// Evaluator is safe for concurrent use.
//
// # Limits of the isolation
//
// Pooled runtimes are reused, so a script that deliberately changes shared
// JavaScript state (a variable declared by the expressionLib, a built-in
// prototype, a property of globalThis) affects later evaluations on the same
// runtime. Strict mode rules out the accidental case, assigning to an
// undeclared variable.
package expr
