package stacks

// validateBuffer checks autoscaling.buffer: a count of whole spare nodes that the pool can
// hold next to maxReplicas. Every replica (and so every placeholder) is one single-host
// slice or GPU node, so maxReplicas + buffer nodes must fit in pool.maxNodes; otherwise the
// placeholders would hold nodes the HPA's last replicas need, and those replicas would
// preempt them into a Pending state no autoscaler can end.
func (c *Config) validateBuffer(p *problems) {
	a := c.Profile.Autoscaling
	n := a.Buffer.Replicas
	if n < 0 {
		p.addf("autoscaling.buffer.replicas %d: must not be negative; 0 turns the buffer off", n)
		return
	}
	if n == 0 || a.MaxReplicas < a.MinReplicas || a.MaxReplicas > *c.Pool.MaxNodes {
		return // off, or the replica bounds are reported already
	}
	const nodesPerReplica = 1 // single-host TPU slices and GPU nodes (validateAccelerator)
	need := (a.MaxReplicas + n) * nodesPerReplica
	if have := *c.Pool.MaxNodes; need > have {
		_, _, what := shape(c.Profile.Accelerator)
		p.addf("autoscaling.buffer.replicas %d: %d spare nodes next to maxReplicas %d need %d nodes (%s each) but llmserve:pool.maxNodes is %d; raise pool.maxNodes to %d or lower buffer.replicas",
			n, n, a.MaxReplicas, need, what, have, need)
	}
	// Replicas only ever grow from minReplicas to maxReplicas: more placeholders than that
	// span can ever be preempted would hold nodes no replica takes.
	if span := a.MaxReplicas - a.MinReplicas; n > span {
		p.addf("autoscaling.buffer.replicas %d: only maxReplicas %d - minReplicas %d = %d replicas can ever start beyond minReplicas, so %d spare nodes would stay idle; lower buffer.replicas to %d or raise maxReplicas",
			n, a.MaxReplicas, a.MinReplicas, span, n-span, span)
	}
}
