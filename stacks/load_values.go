package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ProjectName is the Pulumi project every llmserve stack belongs to (Pulumi.yaml's name).
const ProjectName = "llmserve"

// LoadValues runs Load on config values (keys such as llmserve:cluster, gcp:project) exactly
// as the program would receive them for stack, with no engine and no cloud call: the
// embedding API and the llmserve command check settings with it before anything runs.
// secrets names the keys that hold secrets.
func LoadValues(stack string, values map[string]string, secrets []string) (*Config, error) {
	var cfg *Config
	var loadErr error
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		cfg, loadErr = Load(ctx)
		return nil
	}, pulumi.WithMocks(ProjectName, stack, noMocks{}), func(ri *pulumi.RunInfo) {
		ri.Config, ri.ConfigSecretKeys = values, secrets
	})
	if loadErr != nil {
		return nil, loadErr
	}
	return cfg, err
}

// noMocks answers the mock engine of LoadValues: Load registers and calls nothing.
type noMocks struct{}

func (noMocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return a.Name, a.Inputs, nil
}

func (noMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}
