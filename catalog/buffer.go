package catalog

// Facts of the capacity buffer (autoscaling.buffer): spare accelerator nodes held by
// placeholder pods that any server replica preempts.
const (
	// BufferPriority is the value of the placeholders' PriorityClass. The cluster-autoscaler
	// FAQ, "How can I configure overprovisioning with Cluster Autoscaler?" (kubernetes/
	// autoscaler cluster-autoscaler/FAQ.md): "Priority -10 will be reserved for
	// overprovisioning pods as it is the lowest priority that triggers scaling clusters.
	// Other pods need to use priority 0 or higher in order to be able to preempt
	// overprovisioning pods." llmserve's own pods set no priorityClassName, so they run at 0
	// (Kubernetes "Pod Priority and Preemption": a pod without a class gets the global
	// default's value, or 0 when there is none).
	BufferPriority = -10
	// ExpendablePodsPriorityCutoff is cluster-autoscaler's default --expendable-pods-priority-
	// cutoff: pods below it "don't trigger scale-ups" and "don't prevent scale-downs" (same
	// FAQ, "How does Cluster Autoscaler work with Pod Priority and Preemption?"). A buffer
	// below it would hold no node at all.
	ExpendablePodsPriorityCutoff = -10
	// BufferPreemptionPolicy: placeholders never preempt anything themselves (a placeholder
	// that lost its node waits for the autoscaler's new one, it never evicts another pod);
	// PriorityClass preemptionPolicy, scheduling.k8s.io/v1.
	BufferPreemptionPolicy = "Never"
)

// BufferCommand is what a placeholder runs in the server image: it only sleeps, so the
// node pulls and keeps the server image (the kubelet's image garbage collection removes
// only images no container uses) and a replica that preempts it starts without the image
// pull. GNU coreutils sleep (the vLLM and JetStream images are Debian/Ubuntu based) takes
// "infinity" ("sleep invocation", coreutils manual).
var BufferCommand = []string{"sleep", "infinity"}

// BufferUser is the non-root user the placeholder runs as: sleep needs no privilege, so
// unlike the server it passes Pod Security restricted (65534 is "nobody" in Debian's
// base-passwd).
const BufferUser = 65534
