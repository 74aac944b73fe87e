package tests

import (
	"encoding/json"
	"strconv"
	"testing"
)

// atoi reads a quantity recorded as a string ("8") or a number.
func atoi(t *testing.T, v any) int {
	t.Helper()
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(x)
		if err != nil {
			t.Fatalf("atoi %q: %v", x, err)
		}
		return n
	case float64:
		return int(x)
	}
	t.Fatalf("atoi: %v (%T)", v, v)
	return 0
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
