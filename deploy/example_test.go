package deploy_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/llmserve/llmserve/deploy"
	"github.com/llmserve/llmserve/stacks"
)

// ExampleOpen deploys Llama 3.1 8B to an existing cluster from another Go program, with the
// state in a local directory and the token from the environment. It needs the pulumi CLI and
// the Kubernetes provider plugin, and a cluster, so it is compiled but not run by go test.
func ExampleOpen() {
	ctx := context.Background()
	noGCP := false
	st, err := deploy.Open(ctx, deploy.Target{Env: "dev", Model: "llama-3.1-8b"}, deploy.Options{
		Backend:    "file://~/.llmserve/state",
		Passphrase: os.Getenv("PULUMI_CONFIG_PASSPHRASE"),
		PluginDirs: []string{os.Getenv("LLMSERVE_PULUMI_K8S_BIN")},
		Progress:   os.Stdout,
		Settings: deploy.Settings{
			Project:      "my-project",
			Region:       "us-central1",
			GCPResources: &noGCP,
			Cluster:      stacks.ClusterConfig{Mode: "existing", Name: "lab", Kubeconfig: os.Getenv("KUBECONFIG")},
			ModelStore:   stacks.ModelStoreConfig{Bucket: "my-weights"},
			Overrides:    map[string]any{"autoscaling": map[string]any{"minReplicas": 1, "maxReplicas": 2}},
			HFToken:      os.Getenv("HF_TOKEN"),
		},
	})
	if err != nil {
		log.Fatal(err) // bad settings fail here, with every problem listed, before any deploy
	}
	res, err := st.Up(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Name(), res.Summary["create"], "created; endpoint", res.Outputs["endpoint"])

	pre, err := st.Preview(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending changes:", pre.Changes())
}
