package stacks

import "github.com/llmserve/llmserve/catalog"

// validatePaths checks combinations that pass every key's own check but leave a deployment
// path that cannot work on a real cluster, so they fail before anything is registered
// (issue 11) instead of mid-deploy after the cluster, pool and bucket exist.
func (c *Config) validatePaths(p *problems) {
	c.requireOperatorCluster(p)
	c.requirePrometheusURL(p)
}

// requireOperatorCluster: backend prometheus-operator creates ServiceMonitors and
// PrometheusRules, which need the Prometheus Operator's CRDs in the cluster. llmserve installs
// no operator (issue 11), so a cluster this stack creates never has them: `up` would register
// the cluster, pools and bucket and then fail on the first ServiceMonitor (issue 11, point 10).
func (c *Config) requireOperatorCluster(p *problems) {
	if c.Metrics.Backend != catalog.BackendOperator {
		return
	}
	const prefix = "llmserve:metrics.backend prometheus-operator: needs a cluster that already runs the Prometheus Operator, and the cluster this stack creates"
	switch c.Cluster.Mode {
	case catalog.ModeStandard:
		p.addf("%s (cluster.mode standard) has none, so creating its ServiceMonitor would fail mid-deploy; "+
			"on a cluster llmserve creates use managed-prometheus (the default), or install kube-prometheus-stack on a cluster (README \"Metrics pipelines\") "+
			"and deploy to it from a stack with cluster.mode existing, llmserve:kubeconfig and metrics.prometheusURL", prefix)
	case catalog.ModeAutopilot:
		p.addf("%s (cluster.mode autopilot) has none, nor can it run one: "+
			"kube-prometheus-stack's node exporter DaemonSet needs node access that Autopilot refuses (seed 002); use managed-prometheus (the default)", prefix)
	}
}
