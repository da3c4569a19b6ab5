package e2e

import (
	"reflect"
	"testing"
)

func TestParseYAMLSubset(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want yamlNode
	}{
		{"scalars", "a: 1\nb: \"x: y\" # c\nc: 'q'\n", map[string]any{"a": "1", "b": "x: y", "c": "q"}},
		{"nested", "a:\n  b:\n    c: d\n", map[string]any{"a": map[string]any{"b": map[string]any{"c": "d"}}}},
		{"sequence of maps", "s:\n  - name: x\n    port: 1\n  - name: y\n", map[string]any{"s": []any{
			map[string]any{"name": "x", "port": "1"}, map[string]any{"name": "y"}}}},
		{"sequence at key indent", "s:\n- a\n- b\nt: u\n", map[string]any{"s": []any{"a", "b"}, "t": "u"}},
		{"flow sequence", "c: [\"a, b\", c]\ne: []\nm: {}\n", map[string]any{"c": []any{"a, b", "c"}, "e": []any{}, "m": map[string]any{}}},
		{"block scalar", "d:\n  f: |\n    {\n      \"k\": 1 # not a comment\n    }\n  g: h\n", map[string]any{"d": map[string]any{
			"f": "{\n  \"k\": 1 # not a comment\n}\n", "g": "h"}}},
		{"anchor and merge", "x: &base\n  i: 1\ns:\n  a:\n    <<: *base\n    j: 2\n", map[string]any{
			"x": map[string]any{"i": "1"}, "s": map[string]any{"a": map[string]any{"<<": "*base", "j": "2"}}}},
		{"alias", "a: &l\n  - x\nb: *l\n", map[string]any{"a": []any{"x"}, "b": []any{"x"}}},
		{"inline anchor", "a: &l [x, y]\nb: *l\n", map[string]any{"a": []any{"x", "y"}, "b": []any{"x", "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseYAML(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseYAMLSubsetRejects(t *testing.T) {
	for _, in := range []string{
		"a:\n\tb: c\n",         // tab
		"a: 1\na: 2\n",         // duplicate key
		"a: 1\n   b: 2\n",      // bad indentation
		"a: {b: c}\n",          // flow mapping
		"a: *alias\n",          // alias of no anchor
		"a: [b\n",              // unterminated flow sequence
		"a: \"b\n",             // unterminated quote
		"just a scalar line\n", // not a mapping
		"a:\n  - b\n  c: d\n",  // mapping key inside a sequence
	} {
		if v, err := parseYAML(in); err == nil {
			t.Errorf("parseYAML(%q) = %#v, want an error", in, v)
		}
	}
}

func TestSplitYAMLDocs(t *testing.T) {
	docs := splitYAMLDocs("# head\na: 1\n---\n# only a comment\n---\nb: 2\n")
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2: %q", len(docs), docs)
	}
}
