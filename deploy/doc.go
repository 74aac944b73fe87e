// Package deploy is llmserve's embedding API: other Go programs deploy llmserve through the
// Pulumi Automation API with stacks.Program as an inline program, so they need no Pulumi
// project on disk and no Go language host, only the pulumi CLI and the provider plugins.
// Config goes in as typed Settings, is checked by the same stacks.Load that the program
// runs, and results come back typed.
//
// The files follow the jobs: target.go names a deployment's stack, settings.go turns typed
// settings into stack config and checks them, envfile.go reads Pulumi.<env>.yaml,
// workspace.go finds the CLI, the backend and the secrets provider, stack.go opens a stack
// and runs its operations, result.go is what an operation returns.
package deploy
