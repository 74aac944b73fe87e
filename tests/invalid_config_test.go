package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type m = map[string]any

// invalidCase mutates the dev stack's config; the program must fail with exactly want
// (one line of the joined error) and register nothing.
type invalidCase struct {
	name string
	cfg  configFn
	want string
}

func set(key string, v any) configFn {
	return func(c stackConfig) stackConfig { return c.with(key, v) }
}

func over(v m) configFn { return set("llmserve:overrides", v) }

// opProm is a Prometheus Operator's Prometheus, for rows on backend prometheus-operator.
const opProm = "http://prometheus-operated.monitoring.svc:9090"

// onOperator is backend prometheus-operator with metrics (adapter prometheus-adapter unless
// they say otherwise) on a cluster llmserve did not create, the only mode the backend is
// admitted in: rows on it fail with their own problem alone.
func onOperator(metrics m) configFn {
	mt := m{"backend": "prometheus-operator", "adapter": "prometheus-adapter"}
	for k, v := range metrics {
		mt[k] = v
	}
	return set("llmserve:cluster", m{"mode": "existing", "name": "mine"}).
		andThen(set("llmserve:kubeconfig", testKubeconfig)).andThen(set("llmserve:metrics", mt))
}

var invalidCases = []invalidCase{
	// GCP and cluster
	{"no project", func(c stackConfig) stackConfig { return c.without("gcp:project") },
		"gcp:project: required; set it with `pulumi config set gcp:project <project-id>`"},
	{"bad project id", set("gcp:project", "My_Project"),
		`gcp:project "My_Project": not a project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)`},
	{"bad project number", set("llmserve:projectNumber", "abc"),
		`llmserve:projectNumber "abc": want the numeric project number (gcloud projects describe PROJECT --format='value(projectNumber)')`},
	{"no gcp without existing", set("llmserve:gcpResources", "false"),
		`llmserve:gcpResources false: needs llmserve:cluster.mode existing (mode "standard" creates a GKE cluster)`},
	{"gcpResources not bool", set("llmserve:gcpResources", "nope"),
		`llmserve:gcpResources: "nope" is not a boolean; want true or false`},
	{"no region", func(c stackConfig) stackConfig { return c.without("gcp:region") },
		"llmserve:cluster.location: required for mode standard; set gcp:region or llmserve:cluster.location"},
	{"bad mode", set("llmserve:cluster", m{"mode": "gke"}),
		`llmserve:cluster.mode "gke": want one of standard, autopilot, existing`},
	{"autopilot zonal", set("llmserve:cluster", m{"mode": "autopilot", "location": "us-central1-b"}),
		`llmserve:cluster.location "us-central1-b": Autopilot clusters are regional; use a region such as "us-central1"`},
	{"bad cluster name", set("llmserve:cluster", m{"name": "LLM_dev"}),
		`llmserve:cluster.name "LLM_dev": want 1-40 lowercase letters, digits and hyphens, starting with a letter`},
	{"bad release channel", set("llmserve:cluster", m{"releaseChannel": "fast"}),
		`llmserve:cluster.releaseChannel "fast": want one of RAPID, REGULAR, STABLE, EXTENDED, UNSPECIFIED`},
	{"zone outside region", set("llmserve:cluster", m{"zones": []string{"europe-west4-a"}}),
		`llmserve:cluster.zones[0] "europe-west4-a": not a zone of us-central1; use us-central1-<letter>`},
	{"system pool bounds", set("llmserve:cluster", m{"systemPool": m{"minNodes": 3, "maxNodes": 1}}),
		"llmserve:cluster.systemPool: minNodes 3 and maxNodes 1: want 0 <= minNodes <= maxNodes"},
	// Written values are validated as written, never replaced by a default (issue 21).
	{"system pool min written negative", set("llmserve:cluster", m{"name": "llm-dev", "zones": []string{"us-central1-b"}, "systemPool": m{"minNodes": -1, "maxNodes": 0}}),
		"llmserve:cluster.systemPool.minNodes -1: want 0 or more (a node pool's total minimum is >= 0)"},
	{"system pool max written zero", set("llmserve:cluster", m{"name": "llm-dev", "zones": []string{"us-central1-b"}, "systemPool": m{"minNodes": -1, "maxNodes": 0}}),
		"llmserve:cluster.systemPool.maxNodes 0: want at least 1; the system pool runs the metrics adapter and other system pods"},
	{"model written empty", set("llmserve:model", ""),
		"llmserve:model is empty; remove it to serve the default profile llama-3.1-8b, or name a profile (gemma-3-1b-it, gemma-7b, llama-3.1-70b, llama-3.1-8b, qwen2.5-32b)"},
	{"cluster location written empty", set("llmserve:cluster", m{"name": "llm-dev", "zones": []string{"us-central1-b"}, "location": ""}),
		"llmserve:cluster.location is empty; remove the key to take its default, or give it a value"},
	{"bucket written null", set("llmserve:modelStore", m{"bucket": nil}),
		"llmserve:modelStore.bucket is empty; remove the key to take its default, or give it a value"},
	{"disk written zero", set("llmserve:pool", m{"diskSizeGb": 0}),
		"llmserve:pool.diskSizeGb 0: want at least 10 (GKE's smallest boot disk); remove it for GKE's default"},
	{"port written zero", over(m{"server": m{"port": 0}}), "server.port 0: want 1-65535"},
	{"probe period written zero", over(m{"probes": m{"periodSeconds": 0}}), "probes.periodSeconds 0: want between 1 and startupTimeoutSeconds"},
	{"override written null", over(m{"server": m{"port": nil}}),
		"llmserve:overrides.server.port is empty; remove the key to take its default, or give it a value"},
	{"override string written empty", over(m{"dtype": ""}),
		"llmserve:overrides.dtype is empty; remove the key to take its default, or give it a value"},
	{"unknown cluster field", set("llmserve:cluster", m{"nmae": "x"}),
		"llmserve:cluster.nmae is not a field; did you mean name? want one of context, deletionProtection, location, mode, name, network, releaseChannel, subnetwork, systemPool, version, zones"},
	{"cluster not an object", set("llmserve:cluster", "standard"),
		`llmserve:cluster: want an object, got "standard"`},
	// Accelerator pool
	{"pool in autopilot", set("llmserve:cluster", m{"mode": "autopilot"}).andThen(set("llmserve:pool", m{"create": true})),
		"llmserve:pool.create: Autopilot provisions TPU nodes from the pod's node selector; remove pool.create or use cluster.mode standard"},
	{"pool bounds", set("llmserve:pool", m{"minNodes": 2, "maxNodes": 1}),
		"llmserve:pool: minNodes 2 and maxNodes 1: want 0 <= minNodes <= maxNodes and maxNodes >= 1"},
	{"location policy", set("llmserve:pool", m{"locationPolicy": "FAST"}),
		`llmserve:pool.locationPolicy "FAST": want ANY or BALANCED`},
	{"spot and reservation", set("llmserve:pool", m{"spot": true, "reservation": "r1"}),
		`llmserve:pool: spot and reservation "r1" exclude each other; choose one`},
	{"tiny disk", set("llmserve:pool", m{"diskSizeGb": 5}),
		"llmserve:pool.diskSizeGb 5: want at least 10 (GKE's smallest boot disk); remove it for GKE's default"},
	// pool.imageCacheDisk: the image's path form, name and project (catalog.ParseDiskImage).
	{"image cache disk form", set("llmserve:pool", m{"imageCacheDisk": "vllm-tpu-cache"}),
		`llmserve:pool.imageCacheDisk "vllm-tpu-cache": want global/images/NAME or projects/PROJECT/global/images/NAME (the Compute Engine image gke-disk-image-builder made)`},
	{"image cache disk name", set("llmserve:pool", m{"imageCacheDisk": "global/images/VLLM_cache"}),
		`llmserve:pool.imageCacheDisk "global/images/VLLM_cache": image name "VLLM_cache": a Compute Engine image name is 1-63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen`},
	{"image cache disk other project", set("llmserve:pool", m{"imageCacheDisk": "projects/other-proj/global/images/vllm-cache"}),
		`llmserve:pool.imageCacheDisk "projects/other-proj/global/images/vllm-cache": the image is in project other-proj, not this stack's gcp:project my-project, and llmserve grants no access to another project's images; copy it ` +
			`(gcloud compute images create vllm-cache --project my-project --source-image vllm-cache --source-image-project other-proj) and set global/images/vllm-cache`},
	{"image cache disk without pool", set("llmserve:cluster", m{"mode": "autopilot"}).andThen(set("llmserve:pool", m{"imageCacheDisk": "global/images/vllm-cache"})),
		"llmserve:pool.imageCacheDisk: ignored: llmserve creates no node pool here (pool.create is false in mode autopilot); remove it"},
	{"capacity", set("llmserve:pool", m{"maxNodes": 1}),
		"autoscaling.maxReplicas 2: needs 2 TPU chips but llmserve:pool.maxNodes 1 holds 1; raise pool.maxNodes to 2 or lower maxReplicas"},
	{"capacity 70b", set("llmserve:model", "llama-3.1-70b").andThen(set("llmserve:overrides", m{"autoscaling": m{"maxReplicas": 3}})).andThen(set("llmserve:pool", m{"maxNodes": 2})),
		"autoscaling.maxReplicas 3: needs 24 TPU chips but llmserve:pool.maxNodes 2 holds 16; raise pool.maxNodes to 3 or lower maxReplicas"},
	{"idle slices", set("llmserve:pool", m{"minNodes": 3, "maxNodes": 3}),
		"llmserve:pool.minNodes 3: more idle slices than maxReplicas 2 can ever use; lower pool.minNodes"},
	// Capacity buffer (issue 19, point 3)
	{"buffer negative", over(m{"autoscaling": m{"buffer": m{"replicas": -1}}}),
		"autoscaling.buffer.replicas -1: must not be negative; 0 turns the buffer off"},
	{"buffer beyond pool", set("llmserve:pool", m{"maxNodes": 2}).andThen(over(m{"autoscaling": m{"minReplicas": 1, "maxReplicas": 2, "buffer": m{"replicas": 1}}})),
		"autoscaling.buffer.replicas 1: 1 spare nodes next to maxReplicas 2 need 3 nodes (a 1x1 slice each) but llmserve:pool.maxNodes is 2; raise pool.maxNodes to 3 or lower buffer.replicas"},
	{"buffer beyond pool 70b", set("llmserve:model", "llama-3.1-70b").andThen(set("llmserve:pool", m{"maxNodes": 3})).andThen(over(m{"autoscaling": m{"maxReplicas": 3, "buffer": m{"replicas": 2}}})),
		"autoscaling.buffer.replicas 2: 2 spare nodes next to maxReplicas 3 need 5 nodes (a 2x4 slice each) but llmserve:pool.maxNodes is 3; raise pool.maxNodes to 5 or lower buffer.replicas"},
	{"buffer never used", over(m{"autoscaling": m{"buffer": m{"replicas": 2}}}),
		"autoscaling.buffer.replicas 2: only maxReplicas 4 - minReplicas 3 = 1 replicas can ever start beyond minReplicas, so 1 spare nodes would stay idle; lower buffer.replicas to 1 or raise maxReplicas"},
	{"buffer as a share", over(m{"autoscaling": m{"buffer": m{"percent": 20}}}),
		"llmserve:overrides.autoscaling.buffer.percent is not a field; want one of replicas"},
	// Model store
	{"bad bucket", set("llmserve:modelStore", m{"bucket": "Google-Weights"}),
		`llmserve:modelStore.bucket "Google-Weights": may hold only lowercase letters, digits, '-', '_' and '.', and must start and end with a letter or digit (GCS naming rules); set llmserve:modelStore.bucket`},
	{"bucket required without gcp", set("llmserve:cluster", m{"mode": "existing"}).andThen(set("llmserve:gcpResources", "false")),
		"llmserve:modelStore.bucket: required when llmserve:gcpResources is false; name the bucket that already exists"},
	{"storage class", set("llmserve:modelStore", m{"storageClass": "HOT"}),
		`llmserve:modelStore.storageClass "HOT": want STANDARD (weights are read on every start), NEARLINE, COLDLINE or ARCHIVE`},
	// Serving
	{"bad namespace", set("llmserve:serving", m{"namespace": "LLM"}),
		`llmserve:serving.namespace "LLM": not a DNS-1123 label (lowercase letters, digits and '-', at most 63)`},
	{"bad ksa", set("llmserve:serving", m{"serviceAccount": "my_sa"}),
		`llmserve:serving.serviceAccount "my_sa": not a DNS-1123 label (lowercase letters, digits and '-', at most 63)`},
	{"public without consent", set("llmserve:serving", m{"exposure": "public"}),
		"llmserve:serving.exposure public: puts an unauthenticated LLM on a public IP; set serving.allowPublic: true to mean it, or use internal"},
	{"bad exposure", set("llmserve:serving", m{"exposure": "external"}),
		`llmserve:serving.exposure "external": want cluster (ClusterIP), internal (internal load balancer) or public`},
	{"no hf token", func(c stackConfig) stackConfig { return c.without("llmserve:hfToken") },
		"llmserve:hfToken: required to download meta-llama/Llama-3.1-8B-Instruct from Hugging Face; set it with `pulumi config set --secret llmserve:hfToken <token>` ($HF_TOKEN for the llmserve command, Settings.HFToken when embedding)"},
	// Metrics
	{"bad adapter", set("llmserve:metrics", m{"adapter": "keda"}),
		`llmserve:metrics.adapter "keda": want stackdriver, prometheus-adapter or none`},
	{"bad backend", set("llmserve:metrics", m{"backend": "thanos"}),
		`llmserve:metrics.backend "thanos": want managed-prometheus or prometheus-operator`},
	{"stackdriver on operator", onOperator(m{"adapter": "stackdriver"}),
		"llmserve:metrics.adapter stackdriver: it reads Cloud Monitoring, not the Prometheus Operator's Prometheus; use prometheus-adapter with backend prometheus-operator"},
	// A cluster the stack creates has no Prometheus Operator (issue 11, point 10): refused up
	// front, not when its ServiceMonitor fails after the cluster, pools and bucket exist.
	{"operator on created cluster", set("llmserve:metrics", m{"backend": "prometheus-operator", "adapter": "prometheus-adapter", "prometheusURL": opProm}),
		`llmserve:metrics.backend prometheus-operator: needs a cluster that already runs the Prometheus Operator, and the cluster this stack creates (cluster.mode standard) has none, so creating its ServiceMonitor would fail mid-deploy; ` +
			`on a cluster llmserve creates use managed-prometheus (the default), or install kube-prometheus-stack on a cluster (README "Metrics pipelines") and deploy to it from a stack with cluster.mode existing, llmserve:kubeconfig and metrics.prometheusURL`},
	{"operator on autopilot", set("llmserve:cluster", m{"mode": "autopilot"}).andThen(set("llmserve:metrics", m{"backend": "prometheus-operator", "adapter": "prometheus-adapter", "prometheusURL": opProm})),
		"llmserve:metrics.backend prometheus-operator: needs a cluster that already runs the Prometheus Operator, and the cluster this stack creates (cluster.mode autopilot) has none, nor can it run one: " +
			"kube-prometheus-stack's node exporter DaemonSet needs node access that Autopilot refuses (seed 002); use managed-prometheus (the default)"},
	// Keys removed when llmserve stopped installing charts (issue 11): an old config says
	// what replaced them.
	{"removed installPrometheus", onOperator(m{"installPrometheus": true}),
		`llmserve:metrics.installPrometheus was removed: llmserve no longer installs kube-prometheus-stack; backend prometheus-operator expects a Prometheus Operator already in the cluster. ` +
			`Remove installPrometheus, install kube-prometheus-stack yourself if the cluster has none (the helm command is in the README, "Metrics pipelines"), ` +
			`and set llmserve:metrics.prometheusURL to its Prometheus, such as http://prometheus-operated.monitoring.svc:9090`},
	{"removed charts", set("llmserve:metrics", m{"adapter": "prometheus-adapter", "charts": m{"prometheusAdapter": "5.3.0"}}),
		`llmserve:metrics.charts was removed: llmserve installs no Helm chart any more (prometheus-adapter and the DCGM exporter are built as typed objects; ` +
			`kube-prometheus-stack is yours to install, with the helm command in the README, "Metrics pipelines"); remove charts`},
	{"prometheus URL missing", onOperator(nil),
		`llmserve:metrics.prometheusURL: required with backend prometheus-operator and adapter prometheus-adapter: the in-cluster address of the Prometheus the adapter queries, such as http://prometheus-operated.monitoring.svc:9090 ` +
			`(the Service the Prometheus Operator creates for a Prometheus in the namespace monitoring; README "Metrics pipelines"); or set installAdapter false where the adapter is installed already`},
	{"prometheus URL not absolute", onOperator(m{"prometheusURL": "prometheus-operated.monitoring.svc:9090"}),
		`llmserve:metrics.prometheusURL "prometheus-operated.monitoring.svc:9090": not an http or https URL; want the absolute http or https URL of the Prometheus prometheus-adapter queries, such as http://prometheus-operated.monitoring.svc:9090`},
	{"prometheus URL no host", onOperator(m{"prometheusURL": "http:///api"}),
		`llmserve:metrics.prometheusURL "http:///api": no host; want the absolute http or https URL of the Prometheus prometheus-adapter queries, such as http://prometheus-operated.monitoring.svc:9090`},
	{"prometheus URL with password", onOperator(m{"prometheusURL": "http://admin:pw@prometheus:9090"}),
		`llmserve:metrics.prometheusURL "http://admin:pw@prometheus:9090": credentials in the URL would be stored in plain text in the adapter's arguments; want the absolute http or https URL of the Prometheus prometheus-adapter queries, such as http://prometheus-operated.monitoring.svc:9090`},
	{"prometheus URL unused", set("llmserve:metrics", m{"adapter": "prometheus-adapter", "prometheusURL": opProm}),
		"llmserve:metrics.prometheusURL: read only by prometheus-adapter on backend prometheus-operator (installAdapter true); here nothing queries it (backend managed-prometheus, adapter prometheus-adapter); remove prometheusURL"},
	{"monitor label key", onOperator(m{"prometheusURL": opProm, "monitorLabels": m{"team/prom/x": "a"}}),
		`llmserve:metrics.monitorLabels.team/prom/x: "team/prom/x" is not a Kubernetes label key: a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`},
	{"monitor label value", onOperator(m{"prometheusURL": opProm, "monitorLabels": m{"release": "kube prometheus"}}),
		`llmserve:metrics.monitorLabels.release "kube prometheus": not a Kubernetes label value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`},
	{"monitor label llmserve's", onOperator(m{"prometheusURL": opProm, "monitorLabels": m{"llmserve.dev/stack": "other"}}),
		"llmserve:metrics.monitorLabels.llmserve.dev/stack: llmserve sets this label itself; choose the label your Prometheus selects on, such as release"},
	{"monitor labels on managed", set("llmserve:metrics", m{"monitorLabels": m{"release": "kube-prometheus-stack"}}),
		"llmserve:metrics.monitorLabels: labels for the Prometheus Operator's ServiceMonitors and PrometheusRules; backend managed-prometheus makes PodMonitorings, which need none; remove monitorLabels"},
	{"dcgm exporter on gke", set("llmserve:model", "gemma-3-1b-it").andThen(set("llmserve:metrics", m{"installDCGMExporter": true})),
		"llmserve:metrics.installDCGMExporter: NVIDIA's DCGM exporter is installed only for a DCGM metric (DCGM_FI_DEV_GPU_UTIL) on backend prometheus-operator with cluster.mode existing (a GKE cluster llmserve creates runs GKE's managed exporter); remove installDCGMExporter"},
	{"gke dcgm without a dcgm metric", onOperator(m{"prometheusURL": opProm, "scrapeGKEDCGM": true}),
		"llmserve:metrics.scrapeGKEDCGM: GKE's managed DCGM exporter is scraped by a ServiceMonitor only for a DCGM metric (DCGM_FI_DEV_GPU_UTIL) on backend prometheus-operator with cluster.mode existing (on a GKE cluster llmserve creates, Managed Prometheus scrapes it itself); remove scrapeGKEDCGM"},
	{"gke dcgm and nvidia's exporter", set("llmserve:model", "gemma-3-1b-it").
		andThen(onOperator(m{"prometheusURL": opProm, "scrapeGKEDCGM": true, "installDCGMExporter": true})).
		andThen(set("llmserve:overrides", m{"autoscaling": m{"metrics": []m{{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80}}}})),
		"llmserve:metrics.scrapeGKEDCGM and installDCGMExporter are both true: choose one exporter; on GKE scrape GKE's (set installDCGMExporter false: NVIDIA's finds no driver there, NVIDIA/dcgm-exporter#484), elsewhere install NVIDIA's (remove scrapeGKEDCGM)"},
	{"dcgm exporter namespace for serving", set("llmserve:serving", m{"namespace": "dcgm-exporter"}),
		`llmserve:serving.namespace "dcgm-exporter": a system namespace (kube-*, gke-*, gmp-*, custom-metrics and other platform namespaces) belongs to Kubernetes, GKE or a platform add-on; use your own, such as llm`},
	{"frontend latest", set("llmserve:metrics", m{"adapter": "prometheus-adapter", "frontendImage": "gke.gcr.io/prometheus-engine/frontend:latest"}),
		`llmserve:metrics.frontendImage "gke.gcr.io/prometheus-engine/frontend:latest": pin a version tag or digest`},
	{"system scrape interval", set("llmserve:metrics", m{"systemScrapeInterval": "5s"}),
		`llmserve:metrics.systemScrapeInterval "5s": TPU system metrics are scraped every 15s at most; use 15s or more`},
	{"stackdriver metric through prometheus-adapter", set("llmserve:metrics", m{"adapter": "prometheus-adapter"}).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "kubernetes.io|node|accelerator|memory_used", "target": 20e9}}}})),
		`autoscaling.metrics[0]: metric "kubernetes.io|node|accelerator|memory_used" is not served by the prometheus-adapter adapter (one adapter serves the metrics APIs of a cluster); with it use one of DCGM_FI_DEV_GPU_UTIL, memory_used_percentage, vllm:kv_cache_usage_perc, vllm:num_requests_running, vllm:num_requests_waiting`},
	{"dcgm without operator", set("llmserve:model", "gemma-3-1b-it").andThen(set("llmserve:metrics", m{"adapter": "prometheus-adapter"})).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80}}}})),
		`autoscaling.metrics[0]: "DCGM_FI_DEV_GPU_UTIL" comes from the DCGM exporter, which llmserve scrapes only through a Prometheus Operator (llmserve:metrics.backend prometheus-operator); set backend prometheus-operator on a cluster that runs one (cluster.mode existing)`},
	{"dcgm on tpu", onOperator(m{"prometheusURL": opProm}).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 80}}}})),
		`autoscaling.metrics[0]: "DCGM_FI_DEV_GPU_UTIL" measures NVIDIA GPUs; this profile runs on tpu-v6e`},
	{"dcgm over 100", set("llmserve:model", "gemma-3-1b-it").andThen(onOperator(m{"prometheusURL": opProm})).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "DCGM_FI_DEV_GPU_UTIL", "target": 800}}}})),
		`autoscaling.metrics[0]: target 800 for "DCGM_FI_DEV_GPU_UTIL" is out of range: the metric is a percentage, 0-100; write 80% as 80`},
	{"tpu memory on operator", onOperator(m{"prometheusURL": opProm}).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "memory_used_percentage", "target": 0.8}}}})),
		`autoscaling.metrics[0]: "memory_used_percentage" is a GKE system metric in Cloud Monitoring; it needs llmserve:metrics.backend managed-prometheus`},
	{"tpu memory on gpu", set("llmserve:model", "gemma-3-1b-it").andThen(set("llmserve:metrics", m{"adapter": "prometheus-adapter"})).andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "memory_used_percentage", "target": 0.8}}}})),
		`autoscaling.metrics[0]: "memory_used_percentage" is built from TPU memory metrics; on GPUs use DCGM_FI_DEV_GPU_UTIL`},
	{"install none", set("llmserve:metrics", m{"adapter": "none", "installAdapter": true}),
		"llmserve:metrics.installAdapter: adapter is none; remove installAdapter or choose an adapter"},
	{"adapter latest", set("llmserve:metrics", m{"adapterImage": "gcr.io/gke-release/custom-metrics-stackdriver-adapter"}),
		`llmserve:metrics.adapterImage "gcr.io/gke-release/custom-metrics-stackdriver-adapter": pin a version tag or digest`},
	{"scrape interval syntax", set("llmserve:metrics", m{"scrapeInterval": "5 seconds"}),
		`llmserve:metrics.scrapeInterval "5 seconds": not a Prometheus duration such as 5s or 1m`},
	{"scrape interval too fast", set("llmserve:metrics", m{"scrapeInterval": "1s"}),
		`llmserve:metrics.scrapeInterval "1s": Managed Prometheus scrapes server metrics every 5s at most; use 5s or more`},
	// Profile and overrides
	{"unknown profile", set("llmserve:model", "llama-9"),
		`llmserve:model "llama-9": no such profile; want one of gemma-3-1b-it, gemma-7b, llama-3.1-70b, llama-3.1-8b, qwen2.5-32b`},
	{"override typo", over(m{"server": m{"maxNumSeq": 4}}),
		"llmserve:overrides.server.maxNumSeq is not a field; did you mean maxNumSeqs? want one of cpu, env, extraArgs, maxModelLen, maxNumBatchedTokens, maxNumSeqs, memory, port, tensorParallelSize"},
	{"bad engine", over(m{"engine": "tgi"}),
		`engine "tgi": want vllm or jetstream`},
	{"latest image", over(m{"image": "vllm/vllm-tpu:latest"}),
		`image "vllm/vllm-tpu:latest": pin a version tag or digest (not latest), so every replica runs the same server`},
	{"untagged image", over(m{"image": "vllm/vllm-tpu"}),
		`image "vllm/vllm-tpu": pin a version tag or digest (not latest), so every replica runs the same server`},
	{"unknown accelerator", over(m{"accelerator": m{"type": "nvidia-t4"}}),
		`accelerator.type "nvidia-t4": want tpu-v6e or a GPU: nvidia-l4, nvidia-tesla-a100, nvidia-a100-80gb, nvidia-h100-80gb`},
	{"count on tpu", over(m{"accelerator": m{"count": 4}}),
		"accelerator.count 4: for GPUs; a TPU slice's chips follow from its topology"},
	{"gpu count", set("llmserve:model", "gemma-3-1b-it").andThen(over(m{"accelerator": m{"count": 3}})),
		"accelerator.count 3: nvidia-l4 nodes come with [1 2 4 8] GPUs"},
	{"gpu topology", set("llmserve:model", "gemma-3-1b-it").andThen(over(m{"accelerator": m{"topology": "2x2"}})),
		`accelerator.topology "2x2": for TPUs; a GPU node is sized by accelerator.count`},
	{"gpu tp", set("llmserve:model", "gemma-3-1b-it").andThen(over(m{"accelerator": m{"count": 2}})),
		"server.tensorParallelSize 1: must equal the 2 GPUs of a replica (accelerator.count)"},
	{"jetstream on gpu", set("llmserve:model", "gemma-7b").andThen(over(m{"accelerator": m{"type": "nvidia-h100-80gb", "topology": "", "count": 8}})),
		"engine jetstream: JetStream (MaxText) serves on TPUs; use vllm on nvidia-h100-80gb"},
	{"tpu image on gpu", set("llmserve:model", "gemma-3-1b-it").andThen(over(m{"image": "vllm/vllm-tpu:v0.19.0"})),
		`image "vllm/vllm-tpu:v0.19.0": the TPU image cannot drive GPUs; use vllm/vllm-openai`},
	{"gpu image on tpu", over(m{"image": "vllm/vllm-openai:v0.18.2"}),
		`image "vllm/vllm-openai:v0.18.2": the vLLM CUDA image cannot drive TPUs; use vllm/vllm-tpu`},
	{"xla cache on gpu", set("llmserve:model", "gemma-3-1b-it").andThen(over(m{"storage": m{"xlaCache": "shared"}})),
		`storage.xlaCache "shared": the XLA compilation cache is for TPUs; use off on GPUs`},
	{"driver on tpu", set("llmserve:pool", m{"driverVersion": "LATEST"}),
		"llmserve:pool.driverVersion: NVIDIA drivers are for GPU pools; tpu-v6e needs none"},
	{"driver version", set("llmserve:model", "gemma-3-1b-it").andThen(set("llmserve:pool", m{"driverVersion": "535"})),
		`llmserve:pool.driverVersion "535": want LATEST or DEFAULT (GKE-managed driver install)`},
	{"gpu capacity", set("llmserve:model", "gemma-3-1b-it").andThen(set("llmserve:pool", m{"maxNodes": 1})),
		"autoscaling.maxReplicas 2: needs 2 nvidia-l4 GPUs but llmserve:pool.maxNodes 1 holds 1; raise pool.maxNodes to 2 or lower maxReplicas"},
	{"gpu sizing", set("llmserve:model", "qwen2.5-32b").andThen(over(m{"accelerator": m{"type": "nvidia-l4", "topology": "", "count": 2}, "server": m{"tensorParallelSize": 2}, "image": "vllm/vllm-openai:v0.18.2", "storage": m{"xlaCache": "off"}})),
		"accelerator.count 2: qwen2.5-32b needs 79 GB (66 GB of bfloat16 weights + 20% KV-cache headroom) but 2 x nvidia-l4 has 48 GB of accelerator memory; needs accelerator.count 4"},
	{"bad topology", over(m{"accelerator": m{"topology": "2x3"}}),
		`accelerator.topology "2x3": want one of 1x1, 2x2, 2x4 (single-host TPU v6e slices)`},
	{"tp mismatch", over(m{"accelerator": m{"topology": "2x4"}}),
		"server.tensorParallelSize 1: must equal the 8 chips of a 2x4 slice"},
	{"bad port", over(m{"server": m{"port": 70000}}),
		"server.port 70000: want 1-65535"},
	{"bad dtype", over(m{"dtype": "fp4"}),
		`dtype "fp4": want bfloat16, float16, float32, int8 or fp8`},
	{"zero seqs", over(m{"server": m{"maxNumSeqs": 0}}),
		"server.maxNumSeqs 0: must be at least 1"},
	{"batched below seqs", over(m{"server": m{"maxNumBatchedTokens": 32}}),
		"server.maxNumBatchedTokens 32: vLLM needs at least maxNumSeqs (64)"},
	{"extra arg owned", over(m{"server": m{"extraArgs": []string{"--max-model-len=8192"}}}),
		`server.extraArgs[0] "--max-model-len=8192": llmserve sets --max-model-len from server.maxModelLen; set that field instead`},
	{"bad memory", over(m{"server": m{"memory": "lots"}}),
		`server.memory "lots": not a Kubernetes quantity such as 500m, 4Gi or 0`},
	{"jetstream checkpoint", set("llmserve:model", "gemma-7b").andThen(over(m{"jetstream": m{"checkpointPath": "gs://b/ckpt"}})),
		`jetstream.checkpointPath "gs://b/ckpt": want the checkpoint's path inside the model bucket, such as final/unscanned/gemma_7b-it/0/checkpoints/0/items`},
	{"jetstream lengths", set("llmserve:model", "gemma-7b").andThen(over(m{"jetstream": m{"maxTargetLength": 512}})),
		"jetstream.maxTargetLength 512: must exceed maxPrefillPredictLength 1024 (> 0): the target includes the prompt"},
	{"jetstream metrics port", set("llmserve:model", "gemma-7b").andThen(over(m{"jetstream": m{"metricsPort": 9000}})),
		"jetstream.metricsPort 9000: want a free port other than 8000 (HTTP) and 9000 (gRPC)"},
	{"mount path", over(m{"storage": m{"mountPath": "data"}}),
		`storage.mountPath "data": want an absolute directory such as /data`},
	{"mount option comma", over(m{"storage": m{"mountOptions": []string{"implicit-dirs,only-dir=x"}}}),
		`storage.mountOptions[0] "implicit-dirs,only-dir=x": one option per list item, without commas or spaces`},
	{"forbidden mount option", over(m{"storage": m{"mountOptions": []string{"temp-dir=/tmp"}}}),
		`storage.mountOptions[0] "temp-dir=/tmp": the GCS FUSE CSI driver does not allow temp-dir`},
	{"medium typo", over(m{"storage": m{"fileCacheMedium": "Memroy"}}),
		`storage.fileCacheMedium "Memroy": want Memory (RAM; TPU nodes have no local SSD) or Disk`},
	{"xla cache mode", over(m{"storage": m{"xlaCache": "global"}}),
		`storage.xlaCache "global": want shared (per-pod writes, shared read-only seed), per-pod or off`},
	{"sidecar limit", over(m{"storage": m{"sidecarMemoryLimit": "-1Gi"}}),
		`storage.sidecarMemoryLimit "-1Gi": must be greater than 0`},
	{"startup too short", over(m{"probes": m{"startupTimeoutSeconds": 30}}),
		"probes.startupTimeoutSeconds 30: loading a model takes minutes; want at least 60"},
	// Sizing: weights plus KV-cache headroom must fit the slice's HBM (32 GB per v6e chip).
	{"70b on 2x2", set("llmserve:model", "llama-3.1-70b").andThen(over(m{"accelerator": m{"topology": "2x2"}, "server": m{"tensorParallelSize": 4}})),
		`accelerator.topology "2x2": llama-3.1-70b needs 169 GB (141 GB of bfloat16 weights + 20% KV-cache headroom) but a 2x2 slice has 128 GB of accelerator memory; needs 2x4`},
	{"8b float32 on 1x1", over(m{"dtype": "float32"}),
		`accelerator.topology "1x1": llama-3.1-8b needs 38 GB (32 GB of float32 weights + 20% KV-cache headroom) but a 1x1 slice has 32 GB of accelerator memory; needs 2x2`},
	{"405b fits nowhere", set("llmserve:model", "llama-3.1-70b").andThen(over(m{"paramsBillions": 405})),
		`accelerator.topology "2x4": llama-3.1-70b needs 972 GB (810 GB of bfloat16 weights + 20% KV-cache headroom) but a 2x4 slice has 256 GB of accelerator memory; no single-host v6e slice holds it; quantize (dtype int8/fp8) or pick a smaller model`},
	{"no params", over(m{"paramsBillions": 0}),
		"paramsBillions 0: required, the model's size in billions of parameters (sizes the memory check)"},
	{"bad headroom", over(m{"kvCacheHeadroom": -0.5}),
		"kvCacheHeadroom -0.5: want a share of the weights' size between 0 and 4 (default 0.2)"},
	// Autoscaling
	{"min replicas", over(m{"autoscaling": m{"minReplicas": 0}}),
		"autoscaling.minReplicas 0: must be at least 1"},
	{"max below min", over(m{"autoscaling": m{"minReplicas": 3, "maxReplicas": 2}}),
		"autoscaling.maxReplicas 2: must be at least minReplicas 3"},
	{"no metrics", over(m{"autoscaling": m{"metrics": []any{}}}),
		`autoscaling.metrics: list at least one {metric, target}; for vLLM {metric: "vllm:num_requests_waiting", target: 10}`},
	{"removed vllm metric", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:gpu_cache_usage_perc", "target": 0.8}}}}),
		`autoscaling.metrics[0]: "vllm:gpu_cache_usage_perc" was removed from vLLM (deprecated in 0.9, removed in vllm-project/vllm#29330); use "vllm:kv_cache_usage_perc"`},
	{"unknown metric", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:queue", "target": 3}}}}),
		`autoscaling.metrics[0]: unknown metric "vllm:queue"; want one of kubernetes.io|node|accelerator|memory_used, vllm:kv_cache_usage_perc, vllm:num_requests_running, vllm:num_requests_waiting`},
	{"jetstream metric on vllm", over(m{"autoscaling": m{"metrics": []m{{"metric": "jetstream_prefill_backlog_size", "target": 3}}}}),
		`autoscaling.metrics[0]: metric "jetstream_prefill_backlog_size" is not exported by engine "vllm"; want one of kubernetes.io|node|accelerator|memory_used, vllm:kv_cache_usage_perc, vllm:num_requests_running, vllm:num_requests_waiting`},
	{"fraction target", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:kv_cache_usage_perc", "target": 80}}}}),
		`autoscaling.metrics[0]: target 80 for "vllm:kv_cache_usage_perc" is out of range: the metric is a 0..1 fraction, so write 80% as 0.8`},
	{"jetstream slots fraction", set("llmserve:model", "gemma-7b").andThen(over(m{"autoscaling": m{"metrics": []m{{"metric": "jetstream_slots_used_percentage", "target": 75}}}})),
		`autoscaling.metrics[0]: target 75 for "jetstream_slots_used_percentage" is out of range: the metric is a 0..1 fraction, so write 75% as 0.75`},
	{"zero target", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:num_requests_waiting", "target": 0}}}}),
		`autoscaling.metrics[0]: target 0 for "vllm:num_requests_waiting" must be greater than 0`},
	{"duplicate metric", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:num_requests_waiting", "target": 5}, {"metric": "vllm:num_requests_waiting", "target": 9}}}}),
		`autoscaling.metrics[1]: metric "vllm:num_requests_waiting" is listed twice; keep one target`},
	{"selector on pods metric", over(m{"autoscaling": m{"metrics": []m{{"metric": "vllm:num_requests_waiting", "target": 5, "selector": m{"a": "b"}}}}}),
		`autoscaling.metrics[0]: selector is for accelerator (External) metrics; "vllm:num_requests_waiting" is read per pod of this server`},
	{"policy type", over(m{"autoscaling": m{"behavior": m{"scaleUp": m{"policies": []m{{"type": "Replicas", "value": 1, "periodSeconds": 15}}}}}}),
		`autoscaling.behavior.scaleUp.policies[0].type "Replicas": want Pods or Percent`},
	{"policy period", over(m{"autoscaling": m{"behavior": m{"scaleDown": m{"policies": []m{{"type": "Pods", "value": 1, "periodSeconds": 3600}}}}}}),
		"autoscaling.behavior.scaleDown.policies[0].periodSeconds 3600: want 1-1800"},
	{"stabilization window", over(m{"autoscaling": m{"behavior": m{"scaleDown": m{"stabilizationWindowSeconds": 7200}}}}),
		"autoscaling.behavior.scaleDown.stabilizationWindowSeconds 7200: want 0-3600"},
	{"select policy", over(m{"autoscaling": m{"behavior": m{"scaleUp": m{"selectPolicy": "Fastest"}}}}),
		`autoscaling.behavior.scaleUp.selectPolicy "Fastest": want Max, Min or Disabled`},
}

// andThen chains two config mutations.
func (f configFn) andThen(g configFn) configFn {
	return func(c stackConfig) stackConfig { return g(f(c)) }
}

type configFn func(stackConfig) stackConfig

func TestInvalidConfig(t *testing.T) {
	require.GreaterOrEqual(t, len(invalidCases), 45)
	seen := map[string]bool{}
	for _, tc := range invalidCases {
		require.False(t, seen[tc.name], "duplicate case name %q", tc.name)
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			rec, err := run(t, "dev", tc.cfg(devConfig(t)))
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			assert.Contains(t, lines, tc.want, "every line:\n%s", err)
			assert.Empty(t, rec.res, "nothing may be registered when the config is invalid")
		})
	}
}

// TestAllProblemsAtOnce: Validate collects every problem instead of stopping at the first.
func TestAllProblemsAtOnce(t *testing.T) {
	cfg := devConfig(t).
		with("llmserve:cluster", m{"mode": "gke", "releaseChannel": "fast"}).
		with("llmserve:serving", m{"exposure": "external"}).
		with("llmserve:overrides", m{"autoscaling": m{"minReplicas": 0}})
	_, err := run(t, "dev", cfg)
	require.Error(t, err)
	for _, want := range []string{
		`llmserve:cluster.mode "gke"`, `llmserve:cluster.releaseChannel "fast"`,
		`llmserve:serving.exposure "external"`, "autoscaling.minReplicas 0",
	} {
		assert.Contains(t, err.Error(), want)
	}
}
