package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
)

// SecretMask replaces the value of every secret stack output this API returns.
const SecretMask = "[secret]"

// ErrInvalidConfig marks errors about the target or settings, found before the engine runs:
// errors.Is(err, ErrInvalidConfig) tells a caller to fix its input rather than retry.
var ErrInvalidConfig = errors.New("invalid configuration")

// Result is what an operation did.
type Result struct {
	// Summary counts resources by operation: "create", "update", "delete", "same",
	// "replace", ... as the engine reports them.
	Summary map[string]int
	// Outputs are the stack outputs after up (nil for the other operations); secret values
	// are SecretMask.
	Outputs map[string]any
}

// Changes is the number of resources the operation changed or would change: every count
// but "same".
func (r Result) Changes() int {
	n := 0
	for op, c := range r.Summary {
		if op != string(apitype.OpSame) {
			n += c
		}
	}
	return n
}

// OpError is a failed operation on a stack. Its text is the engine's own error diagnostics
// (what `pulumi up` prints under "Diagnostics"), not the CLI's whole output; the CLI's error
// (an auto error with stdout and stderr) stays reachable through errors.As.
type OpError struct {
	Stack, Op   string
	Diagnostics []string // error diagnostics of the engine, the resources and the program
	Err         error
	canceled    error // the context's error, when it was canceled
}

// Error reads "llmserve <stack>: <op>: <diagnostics>", with "context canceled" after the
// operation when the context ended it.
func (e *OpError) Error() string {
	what := fmt.Sprintf("llmserve %s: %s", e.Stack, e.Op)
	if e.canceled != nil {
		what += ": " + e.canceled.Error()
	}
	if len(e.Diagnostics) > 0 {
		return what + ": " + strings.Join(e.Diagnostics, "\n")
	}
	return fmt.Sprintf("%s: %v", what, e.Err)
}

// Unwrap gives errors.Is and errors.As the CLI's error and, after a cancellation,
// context.Canceled or context.DeadlineExceeded.
func (e *OpError) Unwrap() []error {
	if e.canceled != nil {
		return []error{e.canceled, e.Err}
	}
	return []error{e.Err}
}

func changes(m *map[string]int) map[string]int {
	out := map[string]int{}
	if m != nil {
		for k, v := range *m {
			out[k] = v
		}
	}
	return out
}

func masked(out auto.OutputMap) map[string]any {
	m := make(map[string]any, len(out))
	for k, v := range out {
		if v.Secret {
			m[k] = SecretMask
		} else {
			m[k] = v.Value
		}
	}
	return m
}

func withCanceled(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}
