package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
)

// WriteJSON writes v as indented JSON (four spaces, HTML left as it is,
// a final newline), the way json.Indent lays out its compact encoding,
// but piece by piece: the output object of a 100,000-way scatter is
// written through a small buffer rather than encoded whole, then indented
// into a second copy, while the object is still held. Lists and objects
// are walked here, so no nesting is too deep to indent.
func WriteJSON(w io.Writer, v any) error {
	jw := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	jw.enc = json.NewEncoder(&jw.leaf)
	jw.enc.SetEscapeHTML(false)
	if err := jw.value(v, ""); err != nil {
		return err
	}
	jw.w.WriteByte('\n')
	return jw.w.Flush()
}

type jsonWriter struct {
	w        *bufio.Writer
	enc      *json.Encoder // encodes into leaf
	leaf     bytes.Buffer
	indented bytes.Buffer
}

const jsonIndent = "    "

func (jw *jsonWriter) value(v any, prefix string) error {
	switch t := v.(type) {
	case map[string]any:
		if t == nil {
			break
		}
		if len(t) == 0 {
			jw.w.WriteString("{}")
			return nil
		}
		jw.w.WriteByte('{')
		for i, k := range sortedKeys(t) {
			jw.separate(i, prefix)
			if err := jw.scalar(k, ""); err != nil {
				return err
			}
			jw.w.WriteString(": ")
			if err := jw.value(t[k], prefix+jsonIndent); err != nil {
				return err
			}
		}
		jw.close('}', prefix)
		return nil
	case []any:
		if t == nil {
			break
		}
		if len(t) == 0 {
			jw.w.WriteString("[]")
			return nil
		}
		jw.w.WriteByte('[')
		for i, it := range t {
			jw.separate(i, prefix)
			if err := jw.value(it, prefix+jsonIndent); err != nil {
				return err
			}
		}
		jw.close(']', prefix)
		return nil
	}
	return jw.scalar(v, prefix)
}

// separate starts the i-th member of an object or list at prefix.
func (jw *jsonWriter) separate(i int, prefix string) {
	if i > 0 {
		jw.w.WriteByte(',')
	}
	jw.w.WriteByte('\n')
	jw.w.WriteString(prefix)
	jw.w.WriteString(jsonIndent)
}

func (jw *jsonWriter) close(c byte, prefix string) {
	jw.w.WriteByte('\n')
	jw.w.WriteString(prefix)
	jw.w.WriteByte(c)
}

// scalar writes any other value with encoding/json, indented at prefix
// (a value of another Go type may still hold lists or objects).
func (jw *jsonWriter) scalar(v any, prefix string) error {
	jw.leaf.Reset()
	if err := jw.enc.Encode(v); err != nil {
		return err
	}
	b := bytes.TrimSuffix(jw.leaf.Bytes(), []byte("\n"))
	if len(b) > 0 && b[0] != '"' && bytes.ContainsAny(b, "{[") {
		jw.indented.Reset()
		if json.Indent(&jw.indented, b, prefix, jsonIndent) == nil {
			b = jw.indented.Bytes()
		}
	}
	_, err := jw.w.Write(b)
	return err
}
