package stacks

// validatePaths checks combinations that pass every key's own check but leave a deployment
// path that cannot work on a real cluster, so they fail before anything is registered
// (issue 11) instead of mid-deploy after the cluster, pool and bucket exist.
func (c *Config) validatePaths(p *problems) {
	c.requirePrometheusURL(p)
}
