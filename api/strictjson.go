package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// checkExactKeys walks the JSON value v and checks that every object key is
// exactly (case included) the json tag of a field of the struct type t
// describes. encoding/json matches keys case-insensitively, so without this
// "datadir" would silently set DataDir.
func checkExactKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, val := range x {
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("json: unknown field %q", path+k)
			}
			if err := checkExactKeys(val, ft, path+k+"."); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
			return nil
		}
		for i, val := range x {
			if err := checkExactKeys(val, t.Elem(), fmt.Sprintf("%s%d.", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// strictKeys decodes data generically and runs [checkExactKeys] for T.
func strictKeys[T any](data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return checkExactKeys(v, reflect.TypeFor[T](), "")
}
