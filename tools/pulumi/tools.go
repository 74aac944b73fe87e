//go:build tools

// Package tools pins the Pulumi CLI that the real-engine tests drive.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
