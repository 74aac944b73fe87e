//go:build tools

// Package tools pins the provider packages that the plugin's main imports. The
// main itself (it embeds a generated schema the module zip lacks) is copied from
// the module and generated at build time by tools/build.sh.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
	_ "github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)
