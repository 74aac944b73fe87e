package stacks

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a problem with one config value, named by its full key path
// (llmserve:pool.maxNodes, llmserve:overrides.server.extraArgs[2]).
type FieldError struct {
	Key string
	Msg string // follows the key: `"three": want a whole number`
}

func (e *FieldError) Error() string { return e.Key + " " + e.Msg }

// maxConfigInt bounds every integer llmserve reads: Kubernetes and GKE count replicas,
// nodes, ports and seconds in int32, and larger values would overflow the capacity checks.
const maxConfigInt = math.MaxInt32

// decodeValue decodes a YAML/JSON document into v strictly, walking the document and the Go
// type together, so every problem names its full key path and there is one set of rules
// whatever reads the config (`pulumi up`, the llmserve command, the embedding API):
//   - booleans are true or false only. yaml.v3 alone would take yes/on/y into a bool field
//     (YAML 1.1 compatibility, go.yaml.in/yaml/v3 decode.go) while llmserve:skipAwait: yes is
//     an error: both are errors here.
//   - integers are whole numbers: yaml.v3 alone truncates 2.7 into 2.
//   - numbers are finite: .nan and .inf are refused everywhere.
//   - unknown fields are errors, with the fields there are; a removed one (removedKeys) says
//     what replaced it.
//
// It also records which fields the document wrote (w, when not nil), so defaults apply only
// to fields left out and a written empty or zero value reaches validation instead of being
// replaced (issue 21).
func decodeValue(n *yaml.Node, v any, key string, w *written) error {
	st := &decodeState{root: key, w: w}
	decodeNode(n, reflect.ValueOf(v).Elem(), key, st)
	return errors.Join(st.errs...)
}

// decodeState is one walk: the problems found and where presence is recorded.
type decodeState struct {
	errs []error
	root string // the key of the document's root: recorded paths are relative to it
	w    *written
}

func (st *decodeState) fail(key, format string, args ...any) {
	st.errs = append(st.errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// record notes that the document wrote the struct field at key, and whether it wrote it
// empty: null (`key:` with nothing, or --set key=) or "".
func (st *decodeState) record(key string, val *yaml.Node) {
	if st.w == nil {
		return
	}
	for val.Kind == yaml.AliasNode && val.Alias != nil {
		val = val.Alias
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(key, st.root), ".")
	st.w.add(rel, val.Kind == yaml.ScalarNode && (val.Tag == "!!null" || (val.Tag == "!!str" && val.Value == "")))
}

// shown is how a scalar is quoted in messages: strings quoted, numbers and booleans bare.
func shown(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!str" {
		return n.Value
	}
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "(" + kindName(n) + ")"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "an object"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a scalar"
}

func decodeNode(n *yaml.Node, v reflect.Value, key string, st *decodeState) {
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // absent: the default applies
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		decodeNode(n, v.Elem(), key, st)
	case reflect.Struct:
		decodeStruct(n, v, key, st)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			st.fail(key, "%s: want a list, such as [a, b]", shown(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			decodeNode(item, s.Index(i), fmt.Sprintf("%s[%d]", key, i), st)
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			st.fail(key, "%s: want an object", shown(n))
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				st.fail(key, "%s: keys must be plain names", shown(k))
				continue
			}
			sub := key + "." + k.Value
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				st.fail(sub, "is set twice; keep one")
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			decodeNode(val, e, sub, st)
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
		v.Set(m)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			st.fail(key, "%s: %s", shown(n), cleanYAMLError(err))
			return
		}
		checkFinite(x, key, st)
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			st.fail(key, "%s: want a string", shown(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			st.fail(key, "%s: not a boolean; want true or false", shown(n))
			return
		}
		v.SetBool(strings.EqualFold(n.Value, "true"))
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, ok := wholeNumber(n)
		if !ok {
			st.fail(key, "%s: want a whole number", shown(n))
			return
		}
		if i > maxConfigInt || i < -maxConfigInt {
			st.fail(key, "%s: out of range; want a whole number of at most %d", shown(n), maxConfigInt)
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, ok := number(n)
		if !ok {
			st.fail(key, "%s: want a number", shown(n))
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			st.fail(key, "%s: want a finite number", shown(n))
			return
		}
		v.SetFloat(f)
	default:
		st.fail(key, "cannot be decoded (%s)", v.Type())
	}
}

// number reads an int or float scalar.
func number(n *yaml.Node) (float64, bool) {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	var f float64
	if err := n.Decode(&f); err != nil {
		return 0, false
	}
	return f, true
}

// wholeNumber reads an integer scalar; a float is taken only when it is integral (2.0,
// 1e3), never truncated (2.7).
func wholeNumber(n *yaml.Node) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return i, true
		}
		return math.MaxInt64, true // too large for int64: out of range
	}
	f, ok := number(n)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, false
	}
	if math.Abs(f) > maxConfigInt {
		return math.MaxInt64, true
	}
	return int64(f), true
}

func decodeStruct(n *yaml.Node, v reflect.Value, key string, st *decodeState) {
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "-" || !t.Field(i).IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(t.Field(i).Name)
		}
		fields[name] = i
		names = append(names, name)
	}
	if n.Kind != yaml.MappingNode {
		st.fail(key, "%s: want an object with fields %s", shown(n), strings.Join(names, ", "))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			st.fail(key, "%s: keys must be plain field names", shown(k))
			continue
		}
		sub := key + "." + k.Value
		if key == "" {
			sub = k.Value
		}
		idx, ok := fields[k.Value]
		if msg, removed := removedKeys[sub]; !ok && removed {
			st.fail(sub, "%s", msg)
			continue
		}
		if !ok {
			hint := ""
			if near := nearest(k.Value, names); near != "" {
				hint = fmt.Sprintf("did you mean %s? ", near)
			}
			st.fail(sub, "is not a field; %swant one of %s", hint, strings.Join(slices.Sorted(slices.Values(names)), ", "))
			continue
		}
		if seen[k.Value] {
			st.fail(sub, "is set twice; keep one")
			continue
		}
		seen[k.Value] = true
		st.record(sub, val)
		decodeNode(val, v.Field(idx), sub, st)
	}
}

// nearest returns the candidate closest to s by edit distance (case-insensitive), if close.
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkFinite refuses NaN and infinities anywhere in a generic document (llmserve:overrides
// before it is merged and typed).
func checkFinite(x any, key string, st *decodeState) {
	switch t := x.(type) {
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			st.fail(key, "%v: want a finite number", t)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			checkFinite(t[k], key+"."+k, st)
		}
	case map[any]any:
		for k, v := range t {
			checkFinite(v, fmt.Sprintf("%s.%v", key, k), st)
		}
	case []any:
		for i, v := range t {
			checkFinite(v, fmt.Sprintf("%s[%d]", key, i), st)
		}
	}
}

// parseDoc parses raw YAML/JSON into a node; an empty document is nil.
func parseDoc(raw []byte) (*yaml.Node, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 || (n.Kind == yaml.DocumentNode && len(n.Content) == 0) {
		return nil, nil
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = *n.Content[0]
	}
	return &n, nil
}
