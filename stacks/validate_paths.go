package stacks

import "github.com/llmserve/llmserve/catalog"

// validatePaths checks combinations that pass every key's own check but leave a deployment
// path that cannot work on a real cluster, so they fail before anything is registered
// (issue 11) instead of mid-deploy after the cluster, pool and bucket exist.
func (c *Config) validatePaths(p *problems) {
	m := c.Metrics
	// prometheus-adapter on the Prometheus Operator queries the Prometheus that
	// kube-prometheus-stack installs; llmserve knows no other Prometheus URL.
	if m.Backend == catalog.BackendOperator && m.Adapter == catalog.AdapterPrometheus && *m.InstallAdapter && !*m.InstallPrometheus {
		p.addf("llmserve:metrics.installPrometheus false: prometheus-adapter with backend prometheus-operator queries the Prometheus llmserve installs, and there is none; remove installPrometheus, or set installAdapter false where another stack installed the adapter")
	}
}
