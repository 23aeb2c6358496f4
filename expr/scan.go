package expr

import (
	"fmt"
	"strings"
)

// piece is one part of a field's text after scanning: either literal text
// (escapes already resolved) or the source of one expression, including its
// "$(" ... ")" or "${" ... "}" delimiters.
type piece struct {
	text string
	expr bool
}

// Scanner states. The scanner keeps a stack of them so that nesting of
// parentheses, braces, quotes and template literals is tracked exactly as far
// as is needed to find where an expression ends. It mirrors cwltool's
// scanner (so the same strings split the same way) and adds JavaScript
// template literals, whose "${...}" placeholders nest.
type scanState uint8

const (
	stDefault   scanState = iota // literal text outside any expression
	stDollar                     // saw '$' in literal text
	stParen                      // inside $( ... ) or nested ( ... )
	stBrace                      // inside ${ ... }, nested { ... } or a template placeholder
	stSingle                     // inside '...'
	stDouble                     // inside "..."
	stBacktick                   // inside `...`
	stBackslash                  // the next character is escaped
)

// hasDollar is the cheap pre-check cwltool also makes: a string with neither
// "$(" nor "${" is never scanned, so its backslashes and whitespace stay
// exactly as written.
func hasDollar(s string) bool {
	return strings.Contains(s, "$(") || strings.Contains(s, "${")
}

// split cuts s into literal text and expressions in a single pass.
//
// Outside expressions the escaping rules of the CWL spec apply: `\$(` and
// `\${` become `$(` and `${` (no evaluation), `\\` becomes `\`, and any other
// backslash is kept as is. A trailing lone `$` or `\` is literal text; any
// other construct still open at the end of s is an error.
func split(s string) ([]piece, error) {
	var (
		pieces   []piece
		lit      strings.Builder
		litStart int // start of literal text not yet copied into lit
		start    int // start of the current expression
		stack    = []scanState{stDefault}
	)
	push := func(st scanState) { stack = append(stack, st) }
	pop := func() scanState { stack = stack[:len(stack)-1]; return stack[len(stack)-1] }

	for i := 0; i < len(s); i++ {
		c := s[i]
		switch stack[len(stack)-1] {
		case stDefault:
			switch c {
			case '$':
				push(stDollar)
			case '\\':
				push(stBackslash)
			}
		case stBackslash:
			if pop() != stDefault {
				continue // escaped character inside a JS string: just skip it
			}
			lit.WriteString(s[litStart : i-1])
			i += writeEscape(&lit, s, i)
			litStart = i + 1
		case stDollar:
			switch c {
			case '(':
				start = i - 1
				push(stParen)
			case '{':
				start = i - 1
				push(stBrace)
			default:
				pop()
				i-- // look at this character again as literal text
			}
		case stParen, stBrace:
			if !scanCode(c, push, pop) {
				continue
			}
			// The expression closed: the stack is back to [default].
			stack = stack[:1]
			lit.WriteString(s[litStart:start])
			if lit.Len() > 0 {
				pieces = append(pieces, piece{text: lit.String()})
				lit.Reset()
			}
			pieces = append(pieces, piece{text: s[start : i+1], expr: true})
			litStart = i + 1
		case stSingle, stDouble, stBacktick:
			scanQuoted(stack[len(stack)-1], c, s, &i, push, pop)
		}
	}
	if n := len(stack); n > 2 || (n == 2 && stack[1] != stBackslash && stack[1] != stDollar) {
		return nil, fmt.Errorf("%w: %s", ErrUnterminated, quote(s[start:]))
	}
	lit.WriteString(s[litStart:])
	if lit.Len() > 0 {
		pieces = append(pieces, piece{text: lit.String()})
	}
	return pieces, nil
}

// writeEscape writes the literal text for a backslash (at i-1) followed by
// s[i], and reports how many characters after s[i] it consumed as well.
func writeEscape(lit *strings.Builder, s string, i int) int {
	switch {
	case s[i] == '$' && i+1 < len(s) && (s[i+1] == '(' || s[i+1] == '{'):
		lit.WriteString(s[i : i+2]) // `\$(` -> `$(`: no evaluation
		return 1
	case s[i] == '\\':
		lit.WriteByte('\\') // `\\` -> `\`
	default:
		lit.WriteString(s[i-1 : i+1]) // any other backslash stays
	}
	return 0
}

// scanCode handles character c inside expression code (paren or brace
// state). It reports true when c closes the whole expression.
func scanCode(c byte, push func(scanState), pop func() scanState) bool {
	switch c {
	case '(':
		push(stParen)
	case '{':
		push(stBrace)
	case ')', '}':
		// cwltool does not check that the closer matches the opener; neither
		// do we, so that both split the same strings the same way.
		return pop() == stDollar
	case '\'':
		push(stSingle)
	case '"':
		push(stDouble)
	case '`':
		push(stBacktick)
	}
	return false
}

// scanQuoted handles c inside a string or template literal of kind st.
func scanQuoted(st scanState, c byte, s string, i *int, push func(scanState), pop func() scanState) {
	switch {
	case c == '\\':
		push(stBackslash)
	case (st == stSingle && c == '\'') || (st == stDouble && c == '"') || (st == stBacktick && c == '`'):
		pop()
	case st == stBacktick && c == '$' && *i+1 < len(s) && s[*i+1] == '{':
		push(stBrace) // template placeholder: code again until its '}'
		*i++
	}
}

// IsExpression reports whether s contains an unescaped "$(" or "${", that is
// whether Eval would evaluate something (an unterminated expression counts:
// Eval would report it). A string for which IsExpression is false can still
// change under Eval when it contains escapes such as `\$(`, so field values
// should always go through Eval.
func IsExpression(s string) bool {
	if !hasDollar(s) {
		return false
	}
	pieces, err := split(s)
	if err != nil {
		return true
	}
	for _, p := range pieces {
		if p.expr {
			return true
		}
	}
	return false
}

// quote shortens an expression (or any text) for use in an error message:
// runs of whitespace collapse to one space and long text is cut.
func quote(s string) string {
	const max = 80
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-3]) + "..."
	}
	return s
}
