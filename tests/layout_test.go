package tests

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTypeTokenFindsItsFile keeps the README's promise that a resource's code is one hop from
// its type token: llmserve:<area>:<Component> is built by New<Component> in
// components/<component_in_snake_case>.go.
func TestTypeTokenFindsItsFile(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join("..", "components", "tokens.go"), nil, 0)
	require.NoError(t, err)
	tokenRe := regexp.MustCompile(`^llmserve:(gke|storage|serving|monitoring|autoscaling):([A-Z][A-Za-z]+)$`)
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 || !vs.Names[0].IsExported() {
			return true
		}
		lit, ok := vs.Values[0].(*ast.BasicLit)
		if !ok {
			return true
		}
		tok, _ := strconv.Unquote(lit.Value)
		m := tokenRe.FindStringSubmatch(tok)
		if !assert.NotNil(t, m, "%s = %q: want llmserve:<area>:<Component>", vs.Names[0].Name, tok) {
			return true
		}
		n++
		file := filepath.Join("..", "components", snake(m[2])+".go")
		src, err := os.ReadFile(file)
		if assert.NoError(t, err, "%s is built in %s", tok, file) {
			assert.Contains(t, string(src), "func New"+m[2]+"(", "%s defines New%s", file, m[2])
		}
		return true
	})
	assert.GreaterOrEqual(t, n, 10, "type tokens found in components/tokens.go")
}

// snake turns ModelServer into model_server and TPUNodePool into tpu_node_pool.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := s[i-1] >= 'a' && s[i-1] <= 'z'
			nextLower := i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z'
			if prevLower || nextLower {
				b.WriteByte('_')
			}
		}
		b.WriteString(strings.ToLower(string(r)))
	}
	return b.String()
}
