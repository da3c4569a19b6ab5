package e2e

import (
	"fmt"
	"strings"
)

// This file is a deliberately small YAML reader for the manifests under
// deploy/: block mappings, block sequences, plain and quoted scalars, flow
// sequences of scalars ([a, "b"]), literal block scalars (|) and comments.
// Anchors, aliases, merge keys, flow mappings and multi-line plain scalars
// are outside the subset: the reader rejects what it does not understand
// (anchors and merge keys are skipped only where compose uses them), so a
// manifest that drifts outside the subset fails the test instead of being
// misread. It exists because the module has no YAML library and the
// manifests do not justify adding one.

// yamlNode is a parsed value: map[string]any, []any or string.
type yamlNode = any

type yamlLine struct {
	num      int
	indent   int
	text     string // without indentation and trailing comment
	block    string // the literal block scalar that follows "key: |"
	hasBlock bool
}

// splitYAMLDocs splits a multi-document stream on "---" lines.
func splitYAMLDocs(src string) []string {
	var docs []string
	var cur strings.Builder
	for _, l := range strings.Split(src, "\n") {
		if strings.TrimRight(l, " ") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(l)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.String())
	var out []string
	for _, d := range docs {
		if strings.TrimSpace(stripComments(d)) != "" {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// parseYAML parses one document of the subset.
func parseYAML(doc string) (yamlNode, error) {
	var lines []yamlLine
	raw := strings.Split(doc, "\n")
	for i := 0; i < len(raw); i++ {
		l := raw[i]
		if strings.Contains(l, "\t") {
			return nil, fmt.Errorf("line %d: tab character", i+1)
		}
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		text := cutComment(strings.TrimSpace(l))
		lines = append(lines, yamlLine{num: i + 1, indent: indent, text: text})
		// A literal block scalar swallows the following more-indented
		// lines verbatim, comments and blank lines included.
		if strings.HasSuffix(text, ": |") || strings.HasSuffix(text, ": |-") {
			var block []string
			j := i + 1
			for ; j < len(raw); j++ {
				bl := raw[j]
				if strings.TrimSpace(bl) != "" && len(bl)-len(strings.TrimLeft(bl, " ")) <= indent {
					break
				}
				block = append(block, bl)
			}
			last := &lines[len(lines)-1]
			last.text = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(text, "|-"), "|"))
			last.block, last.hasBlock = dedent(block), true
			i = j - 1
		}
	}
	p := &yamlParser{lines: lines, anchors: map[string]yamlNode{}}
	if len(lines) == 0 {
		return nil, fmt.Errorf("empty document")
	}
	v, err := p.parseBlock(lines[0].indent)
	if err != nil {
		return nil, err
	}
	if p.pos != len(lines) {
		return nil, fmt.Errorf("line %d: unexpected indentation", lines[p.pos].num)
	}
	return v, nil
}

// cutComment removes a trailing " # comment" outside quotes.
func cutComment(s string) string {
	inS, inD := false, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			if !inD {
				inS = !inS
			}
		case '"':
			if !inS {
				inD = !inD
			}
		case '#':
			if !inS && !inD && i > 0 && s[i-1] == ' ' {
				return strings.TrimSpace(s[:i])
			}
		}
	}
	return s
}

func dedent(block []string) string {
	min := -1
	for _, l := range block {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); min < 0 || n < min {
			min = n
		}
	}
	var b strings.Builder
	for _, l := range block {
		if len(l) >= min && min >= 0 {
			l = l[min:]
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

type yamlParser struct {
	lines   []yamlLine
	pos     int
	anchors map[string]yamlNode // &name values seen so far, for *name
}

func (p *yamlParser) parseBlock(indent int) (yamlNode, error) {
	if strings.HasPrefix(p.lines[p.pos].text, "- ") || p.lines[p.pos].text == "-" {
		return p.parseSeq(indent)
	}
	return p.parseMap(indent)
}

func (p *yamlParser) parseMap(indent int) (yamlNode, error) {
	m := map[string]any{}
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, fmt.Errorf("line %d: unexpected indentation", l.num)
		}
		if strings.HasPrefix(l.text, "- ") {
			return nil, fmt.Errorf("line %d: sequence item inside a mapping", l.num)
		}
		key, rest, ok := splitKey(l.text)
		if !ok {
			return nil, fmt.Errorf("line %d: want key: value, got %q", l.num, l.text)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", l.num, key)
		}
		p.pos++
		if key == "<<" && strings.HasPrefix(rest, "*") {
			m[key] = rest // a compose merge key: kept as the alias name
			continue
		}
		v, err := p.value(rest, l, indent)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
	return m, nil
}

// value parses what follows "key:" or "- ": an inline scalar, a block
// scalar, or a nested block on the following lines.
func (p *yamlParser) value(rest string, l yamlLine, indent int) (yamlNode, error) {
	if l.hasBlock {
		return l.block, nil
	}
	// An anchor (&name) on a block or inline value records it for later
	// aliases.
	if strings.HasPrefix(rest, "&") {
		name, inline, _ := strings.Cut(rest[1:], " ")
		v, err := p.value(strings.TrimSpace(inline), l, indent)
		if err != nil {
			return nil, err
		}
		p.anchors[name] = v
		return v, nil
	}
	if strings.HasPrefix(rest, "*") {
		v, ok := p.anchors[rest[1:]]
		if !ok {
			return nil, fmt.Errorf("line %d: alias %s names no earlier anchor", l.num, rest)
		}
		return v, nil
	}
	if rest != "" {
		return parseScalarOrFlow(rest, l.num)
	}
	if p.pos < len(p.lines) && p.lines[p.pos].indent > indent {
		return p.parseBlock(p.lines[p.pos].indent)
	}
	// A sequence may sit at the same indentation as its key.
	if p.pos < len(p.lines) && p.lines[p.pos].indent == indent && strings.HasPrefix(p.lines[p.pos].text, "- ") {
		return p.parseSeq(indent)
	}
	return "", nil
}

func (p *yamlParser) parseSeq(indent int) (yamlNode, error) {
	var s []any
	for p.pos < len(p.lines) {
		l := p.lines[p.pos]
		if l.indent != indent || !(strings.HasPrefix(l.text, "- ") || l.text == "-") {
			if l.indent > indent {
				return nil, fmt.Errorf("line %d: unexpected indentation", l.num)
			}
			break
		}
		item := strings.TrimSpace(strings.TrimPrefix(l.text, "-"))
		if _, _, ok := splitKey(item); ok {
			// "- key: value" opens a mapping whose other keys sit at
			// indent+2. Rewrite the line as that mapping's first key.
			l.indent, l.text = indent+2, item
			p.lines[p.pos] = l
			v, err := p.parseMap(indent + 2)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
			continue
		}
		p.pos++
		v, err := p.value(item, l, indent)
		if err != nil {
			return nil, err
		}
		s = append(s, v)
	}
	return s, nil
}

// splitKey splits "key: rest" (or "key:"); keys may be quoted.
func splitKey(t string) (key, rest string, ok bool) {
	if strings.HasPrefix(t, "\"") || strings.HasPrefix(t, "'") {
		q := t[0]
		end := strings.IndexByte(t[1:], q)
		if end < 0 {
			return "", "", false
		}
		key = t[1 : 1+end]
		after := t[2+end:]
		if !strings.HasPrefix(after, ":") {
			return "", "", false
		}
		return key, strings.TrimSpace(after[1:]), true
	}
	i := strings.Index(t, ": ")
	if i < 0 {
		if strings.HasSuffix(t, ":") && !strings.ContainsAny(t, " [{") {
			return t[:len(t)-1], "", true
		}
		return "", "", false
	}
	key = t[:i]
	if strings.ContainsAny(key, "[]{}") || strings.HasPrefix(key, "- ") {
		return "", "", false
	}
	return key, strings.TrimSpace(t[i+2:]), true
}

func parseScalarOrFlow(s string, num int) (yamlNode, error) {
	if strings.HasPrefix(s, "{") {
		if s == "{}" {
			return map[string]any{}, nil
		}
		return nil, fmt.Errorf("line %d: flow mappings are outside the subset", num)
	}
	if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return nil, fmt.Errorf("line %d: unterminated flow sequence", num)
		}
		inner := strings.TrimSpace(s[1 : len(s)-1])
		out := []any{}
		if inner == "" {
			return out, nil
		}
		for _, part := range splitFlow(inner) {
			v, err := unquote(strings.TrimSpace(part), num)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if strings.HasPrefix(s, "*") || strings.HasPrefix(s, "&") {
		return nil, fmt.Errorf("line %d: anchors and aliases are outside the subset", num)
	}
	return unquote(s, num)
}

func splitFlow(s string) []string {
	var parts []string
	inS, inD, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			if !inD {
				inS = !inS
			}
		case '"':
			if !inS {
				inD = !inD
			}
		case ',':
			if !inS && !inD {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func unquote(s string, num int) (string, error) {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1], nil
	}
	if strings.HasPrefix(s, "\"") || strings.HasPrefix(s, "'") {
		return "", fmt.Errorf("line %d: unterminated quoted scalar %q", num, s)
	}
	return s, nil
}

// path walks a parsed document: strings index mappings, ints sequences.
func path(n yamlNode, keys ...any) (yamlNode, bool) {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := n.(map[string]any)
			if !ok {
				return nil, false
			}
			if n, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			s, ok := n.([]any)
			if !ok || k >= len(s) {
				return nil, false
			}
			n = s[k]
		}
	}
	return n, true
}

func str(n yamlNode, keys ...any) string {
	v, _ := path(n, keys...)
	s, _ := v.(string)
	return s
}

func seq(n yamlNode, keys ...any) []any {
	v, _ := path(n, keys...)
	s, _ := v.([]any)
	return s
}

func mapping(n yamlNode, keys ...any) map[string]any {
	v, _ := path(n, keys...)
	m, _ := v.(map[string]any)
	return m
}
