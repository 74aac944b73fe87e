// Command llmserve deploys and checks llmserve stacks, one per environment and model
// (<env>-<model>), through the embedding API in package stacks.
//
//	llmserve models                          the profiles and how they fit their accelerators
//	llmserve metrics                         what the HPA can scale on, through which adapter
//	llmserve validate --env dev --model X    every config problem, no cloud call
//	llmserve preview|up|destroy|outputs      the stack's lifecycle
//	llmserve render --out DIR                manifests for GitOps, no cluster touched
//
// Exit codes: 0 success, 1 invalid configuration, 2 usage, 3 the operation failed,
// 130 interrupted.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK          = 0
	exitInvalid     = 1
	exitUsage       = 2
	exitFailed      = 3
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCommand(stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var coded *exitError
	switch {
	case errors.As(err, &coded):
		fmt.Fprintln(stderr, coded.Error())
		return coded.code
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		fmt.Fprintln(stderr, "llmserve: interrupted:", err)
		return exitInterrupted
	default:
		// cobra's own errors: unknown command or flag.
		fmt.Fprintln(stderr, "llmserve:", err)
		return exitUsage
	}
}

// exitError carries the exit code for an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{code: exitInvalid, err: err} }
func failed(err error) error  { return &exitError{code: exitFailed, err: err} }
