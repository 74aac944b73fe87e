// Command llmserve deploys and checks llmserve stacks, one per environment and model
// (<env>-<model>), through the embedding API in package stacks.
//
//	llmserve models                          the profiles and how they fit their accelerators
//	llmserve metrics                         what the HPA can scale on, through which adapter
//	llmserve validate --env dev --model X    every config problem, no cloud call
//	llmserve preview|up|destroy|outputs      the stack's lifecycle
//	llmserve render --out DIR                manifests for GitOps, no cluster touched
//
// Exit codes: 0 success, 1 invalid configuration, 2 usage (unknown command or flag, a
// malformed --set), 3 the operation failed, 70 internal error (a bug in llmserve: a panic,
// reported with its stack), 130 interrupted (SIGINT or SIGTERM, whatever was running).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
	exitFailed  = 3
	// exitInternal is a bug in llmserve (a recovered panic): EX_SOFTWARE of BSD sysexits.h,
	// a code no documented outcome shares.
	exitInternal    = 70
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code. A panic is a bug: it is
// reported with its stack and exits exitInternal, never a code scripts branch on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return execute(ctx, newRootCommand(stdout, stderr), args, stderr)
}

// execute runs cmd and maps its outcome to an exit code.
func execute(ctx context.Context, cmd *cobra.Command, args []string, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "llmserve: internal error (please report it): %v\n%s", r, debug.Stack())
			code = exitInternal
		}
	}()
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var coded *exitError
	switch {
	// Interrupted first: an operation cut short fails (exitFailed) because it was cut short.
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "llmserve: interrupted:", err)
		return exitInterrupted
	case errors.As(err, &coded):
		fmt.Fprintln(stderr, coded.Error())
		return coded.code
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
func usage(err error) error   { return &exitError{code: exitUsage, err: err} }
