package deploy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/llmserve/llmserve/stacks"
)

// Target names one deployment: a model in an environment. Its stack is "<env>-<model>",
// so every model of an environment has its own stack, state and lock.
type Target struct {
	Env   string // dev, prod, ...
	Model string // a profile in stacks/models/ (llama-3.1-8b); becomes llmserve:model
}

// stackNameBad matches what Pulumi stack names may not hold: they are at most 100 of
// letters, digits, '-', '_' and '.' (pulumi/pulumi sdk/go/common/tokens ValidateStackName).
var stackNameBad = regexp.MustCompile(`[^a-z0-9._-]+`)

// StackName returns the stack of the target: "<env>-<model>", lower-cased, with every run
// of characters a stack name cannot hold turned into one "-" ("dev-llama-3.1-8b").
func (t Target) StackName() string {
	clean := func(s string) string {
		return strings.Trim(stackNameBad.ReplaceAllString(strings.ToLower(strings.TrimSpace(s)), "-"), "-")
	}
	return clean(t.Env) + "-" + clean(t.Model)
}

func (t Target) validate() error {
	var errs []error
	if strings.Trim(stackNameBad.ReplaceAllString(strings.ToLower(t.Env), ""), "-") == "" {
		errs = append(errs, fmt.Errorf("target env %q: want a name such as dev or prod", t.Env))
	}
	if t.Model == "" {
		errs = append(errs, fmt.Errorf("target model: required; want one of %s", strings.Join(stacks.ProfileNames(), ", ")))
	} else if strings.ContainsAny(t.Model, `/\`) || strings.Contains(t.Model, "..") {
		errs = append(errs, fmt.Errorf("target model %q: want a profile name (one of %s), not a path", t.Model, strings.Join(stacks.ProfileNames(), ", ")))
	}
	if n := len(t.StackName()); n > 100 {
		errs = append(errs, fmt.Errorf("target %s/%s: stack name %q is %d characters; Pulumi allows 100 (pulumi/pulumi tokens.ValidateStackName); use a shorter --env", t.Env, t.Model, t.StackName(), n))
	}
	return errors.Join(errs...)
}
