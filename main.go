// Command llmserve is the Pulumi program: `pulumi up` runs stacks.Program on the stack's
// Pulumi.<env>.yaml.
package main

import (
	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(stacks.Program)
}
