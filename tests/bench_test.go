package tests

import (
	"fmt"
	"testing"

	"github.com/llmserve/llmserve/stacks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The mock benchmarks time what the program itself costs: config loading, validation and
// the registration of every resource, with the engine replaced by the recording mock. The
// real engine and kubectl are timed in bench_integration_test.go (`make bench` runs both).

// BenchmarkMockDevStack runs the real stacks.Program for the dev stack (Pulumi.dev.yaml).
func BenchmarkMockDevStack(b *testing.B) {
	cfg := devConfig(b)
	b.ReportAllocs()
	var resources int
	for b.Loop() {
		rec := mustRun(b, "dev", cfg)
		resources = len(rec.res)
	}
	b.ReportMetric(float64(resources), "resources/op")
}

// BenchmarkMockManyModels is one dev stack carrying n model deployments on one infra: the
// cost of a deployment is the slope of ns/op over n (benchtable prints it).
func BenchmarkMockManyModels(b *testing.B) {
	cfg := devConfig(b)
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var resources int
			for b.Loop() {
				rec := &recorder{}
				err := pulumi.RunErr(manyModels(n), pulumi.WithMocks("llmserve", "dev", rec), func(ri *pulumi.RunInfo) {
					ri.Config = cfg.values
					ri.ConfigSecretKeys = cfg.secrets
				})
				if err != nil {
					b.Fatal(err)
				}
				resources = len(rec.res)
			}
			b.ReportMetric(float64(resources), "resources/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/deployment")
		})
	}
}

// manyModels is a program with one infra and n copies of the stack's model, each named
// "<model>-<i>" (its objects are named after it). Only the first installs the cluster-wide
// metrics adapter and creates the namespace, as a second model's stack would configure it;
// each has its own Kubernetes service account.
func manyModels(n int) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		cfg, err := stacks.Load(ctx)
		if err != nil {
			return err
		}
		infra, err := stacks.DeployInfra(ctx, cfg)
		if err != nil {
			return err
		}
		for i := range n {
			c := *cfg
			c.ModelName = fmt.Sprintf("%s-%d", cfg.ModelName, i)
			if cfg.Serving.ServiceAccount == cfg.ObjectName() {
				c.Serving.ServiceAccount = c.ObjectName()
			}
			if i > 0 {
				c.Metrics.InstallAdapter = new(bool)
				c.Serving.CreateNamespace = new(bool)
			}
			if _, err := stacks.DeployModel(ctx, &c, infra); err != nil {
				return fmt.Errorf("model %d: %w", i, err)
			}
		}
		return nil
	}
}
