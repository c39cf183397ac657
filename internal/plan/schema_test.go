package plan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestSchemaCoversDecoder walks the model the decoder accepts and checks the
// schema defines every field, with a description, at the same place.
func TestSchemaCoversDecoder(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", schema["$schema"])
	}
	defs := schema["$defs"].(map[string]any)
	seen := map[reflect.Type]bool{}
	var walk func(t2 reflect.Type, obj map[string]any)
	walk = func(typ reflect.Type, obj map[string]any) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		props, _ := obj["properties"].(map[string]any)
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties must be false (the decoder rejects unknown fields)", typ.Name())
		}
		names := fieldsOf(typ)
		if typ == edgeType {
			names = nil
			for _, k := range edgeKeys {
				names = append(names, fieldInfo{name: k})
			}
		}
		if len(props) != len(names) {
			t.Errorf("%s: schema has %d properties, decoder accepts %d", typ.Name(), len(props), len(names))
		}
		for _, f := range names {
			ps, ok := props[f.name].(map[string]any)
			if !ok {
				t.Errorf("%s: schema lacks field %q", typ.Name(), f.name)
				continue
			}
			if d, _ := ps["description"].(string); d == "" {
				t.Errorf("%s.%s: no description", typ.Name(), f.name)
			}
			if typ == edgeType {
				continue
			}
			ft := typ.Field(f.index).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				def, ok := defs[ft.Name()].(map[string]any)
				if !ok {
					t.Errorf("$defs lacks %s", ft.Name())
					continue
				}
				walk(ft, def)
			}
		}
	}
	walk(reflect.TypeOf(Plan{}), schema)
	// And no description is left behind for a field that no longer exists.
	for key := range fieldDocs {
		typ, field, _ := strings.Cut(key, ".")
		obj, _ := defs[typ].(map[string]any)
		if typ == "Plan" {
			obj = schema
		}
		props, _ := obj["properties"].(map[string]any)
		if _, ok := props[field]; !ok {
			t.Errorf("fieldDocs has %s, which the decoder does not accept", key)
		}
	}
}

// TestExamplesFollowSchema checks each example uses only properties the
// schema defines, and gives every required one, by walking the example's
// YAML against the schema.
func TestExamplesFollowSchema(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	defs := schema["$defs"].(map[string]any)
	var check func(path string, s map[string]any, v any)
	check = func(path string, s map[string]any, v any) {
		if ref, ok := s["$ref"].(string); ok {
			s = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		switch s["type"] {
		case "object":
			m, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s: want an object, got %T", path, v)
				return
			}
			props, _ := s["properties"].(map[string]any)
			for k, val := range m {
				if props == nil {
					if ap, ok := s["additionalProperties"].(map[string]any); ok {
						check(path+"."+k, ap, val)
					}
					continue
				}
				ps, ok := props[k].(map[string]any)
				if !ok {
					t.Errorf("%s: %q is not in the schema", path, k)
					continue
				}
				check(path+"."+k, ps, val)
			}
			req, _ := s["required"].([]any)
			for _, r := range req {
				if _, ok := m[r.(string)]; !ok {
					t.Errorf("%s: schema requires %q", path, r)
				}
			}
		case "array":
			l, ok := v.([]any)
			if !ok {
				t.Errorf("%s: want an array, got %T", path, v)
				return
			}
			for i, el := range l {
				check(path+"["+string(rune('0'+i))+"]", s["items"].(map[string]any), el)
			}
		case "string":
			if _, ok := v.(string); !ok {
				t.Errorf("%s: want a string, got %T (%v)", path, v, v)
			}
		case "integer", "number":
			switch v.(type) {
			case int, float64:
			default:
				t.Errorf("%s: want a number, got %T", path, v)
			}
		}
		if enum, ok := s["enum"].([]any); ok {
			found := false
			for _, e := range enum {
				found = found || e == v
			}
			if !found {
				t.Errorf("%s: %v is not in enum %v", path, v, enum)
			}
		}
	}
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		check(filepath.Base(f), schema, doc)
	}
}
