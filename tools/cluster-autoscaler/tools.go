//go:build tools

// Package tools pins the Kubernetes cluster-autoscaler, built with the `kwok` build tag so
// that only its kwok cloud provider (cloudprovider/builder/builder_kwok.go) is linked: the
// lab runs it against its kwok cluster with --cloud-provider=kwok.
package tools

import (
	_ "k8s.io/autoscaler/cluster-autoscaler"
)
