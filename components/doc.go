// Package components holds llmserve's Pulumi component resources: the GKE cluster and
// accelerator pool, the model store and its Workload Identity grants, the model server,
// its monitoring, the metrics adapter, the autoscaler and the capacity buffer.
//
// Every component follows one pattern: NewX(ctx, name, args, opts...) validates its
// arguments, registers a three-part type token (tokens.go), parents every child to itself,
// names children name+"-role", and registers its outputs. Components never read Pulumi
// config; stacks.Program gives them typed arguments. Kubernetes children always take an
// explicit provider, passed in with pulumi.Provider.
package components
