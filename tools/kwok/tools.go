//go:build tools

// Package tools pins kwok (fake nodes and pods) and kwokctl (runs the local lab cluster).
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
