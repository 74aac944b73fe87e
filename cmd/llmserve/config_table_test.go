package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/llmserve/llmserve/stacks"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliCase is one mistaken configuration run through the real command (validate), from an
// env file written to a temp dir and --set flags: the exit code and the key the message must
// name (followed by a space, a colon or the end), with a fragment of that message line.
type cliCase struct {
	name string
	file map[string]string // top-level config keys over baseEnv (value as written in YAML)
	raw  string            // the whole env file instead
	env  string            // default "t"
	args []string          // $DIR is the temp dir
	code int               // default exitInvalid
	key  string
	want string
}

// baseEnv is a valid env file: every row changes one thing.
var baseEnv = map[string]string{
	"gcp:project":      "my-project",
	"gcp:region":       "us-central1",
	"llmserve:cluster": "{mode: standard, name: llm-dev, zones: [us-central1-b]}",
	"llmserve:model":   "llama-3.1-8b",
}

// existing is the no-GCP existing-cluster env (the local lab's).
var existing = map[string]string{
	"llmserve:cluster":      "{mode: existing, name: mine}",
	"llmserve:gcpResources": "false",
	"llmserve:modelStore":   "{bucket: my-weights}",
}

func with(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func kv(pairs ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

// over is an llmserve:overrides value.
func over(flow string) map[string]string { return kv("llmserve:overrides", flow) }

func renderEnv(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("config:\n")
	for _, k := range keys {
		if m[k] == "<unset>" {
			continue
		}
		b.WriteString("  " + k + ": " + m[k] + "\n")
	}
	return b.String()
}

var (
	gemma1b = kv("llmserve:model", "gemma-3-1b-it")
	gemma7b = kv("llmserve:model", "gemma-7b")
	qwen    = kv("llmserve:model", "qwen2.5-32b")
	long64  = strings.Repeat("a", 64)
	// operator is backend prometheus-operator, admitted only on a cluster llmserve did not
	// create: every row that uses it runs on existing.
	operator  = with(existing, kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter, prometheusURL: 'http://p:9090'}"))
	promAdapt = kv("llmserve:metrics", "{adapter: prometheus-adapter}")
)

var cliCases = []cliCase{
	// Decoding: types, booleans, whole numbers, NaN, unknown fields, in the file.
	{name: "int as word", file: kv("llmserve:pool", "{maxNodes: three}"), key: "llmserve:pool.maxNodes", want: `"three": want a whole number`},
	{name: "float for int", file: kv("llmserve:pool", "{maxNodes: 2.7}"), key: "llmserve:pool.maxNodes", want: "2.7: want a whole number"},
	{name: "negative float for int", file: kv("llmserve:pool", "{minNodes: -1.5}"), key: "llmserve:pool.minNodes", want: "want a whole number"},
	{name: "inf for int", file: kv("llmserve:pool", "{maxNodes: .inf}"), key: "llmserve:pool.maxNodes", want: "+Inf: want a finite number"},
	{name: "int out of range", file: kv("llmserve:pool", "{diskSizeGb: 1e12}"), key: "llmserve:pool.diskSizeGb", want: "out of range"},
	{name: "yes in object", file: kv("llmserve:pool", "{spot: yes}"), key: "llmserve:pool.spot", want: `"yes": not a boolean; want true or false`},
	{name: "on in object", file: kv("llmserve:metrics", "{installAdapter: on}"), key: "llmserve:metrics.installAdapter", want: "not a boolean"},
	{name: "1 as bool", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], deletionProtection: 1}"), key: "llmserve:cluster.deletionProtection", want: "1: not a boolean"},
	{name: "quoted bool", file: kv("llmserve:modelStore", `{forceDestroy: "true"}`), key: "llmserve:modelStore.forceDestroy", want: "not a boolean"},
	{name: "no as bool", file: kv("llmserve:serving", "{createNamespace: no}"), key: "llmserve:serving.createNamespace", want: "not a boolean"},
	{name: "scalar for list", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: us-central1-b}"), key: "llmserve:cluster.zones", want: "want a list"},
	{name: "scalar for nested object", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], systemPool: 3}"), key: "llmserve:cluster.systemPool", want: "want an object"},
	{name: "nested int word", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], systemPool: {maxNodes: many}}"), key: "llmserve:cluster.systemPool.maxNodes", want: "want a whole number"},
	{name: "list item type", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [[us-central1-b]]}"), key: "llmserve:cluster.zones[0]", want: "want a string"},
	{name: "override float for int", file: over("{autoscaling: {maxReplicas: 2.7}}"), key: "llmserve:overrides.autoscaling.maxReplicas", want: "want a whole number"},
	{name: "override word for int", file: over("{autoscaling: {minReplicas: two}}"), key: "llmserve:overrides.autoscaling.minReplicas", want: "want a whole number"},
	{name: "override NaN", file: over("{kvCacheHeadroom: .nan}"), key: "llmserve:overrides.kvCacheHeadroom", want: "want a finite number"},
	{name: "override Inf", file: over("{paramsBillions: .inf}"), key: "llmserve:overrides.paramsBillions", want: "want a finite number"},
	{name: "override port word", file: over(`{server: {port: "8000x"}}`), key: "llmserve:overrides.server.port", want: "want a whole number"},
	{name: "override args scalar", file: over(`{server: {extraArgs: "--enforce-eager"}}`), key: "llmserve:overrides.server.extraArgs", want: "want a list"},
	{name: "override env list", file: over("{server: {env: [A=1]}}"), key: "llmserve:overrides.server.env", want: "want an object"},
	{name: "override count float", file: kv("llmserve:model", "gemma-3-1b-it", "llmserve:overrides", "{accelerator: {count: 1.5}}"), key: "llmserve:overrides.accelerator.count", want: "want a whole number"},
	{name: "metric target word", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_waiting', target: ten}]}}"), key: "llmserve:overrides.autoscaling.metrics[0].target", want: "want a number"},
	{name: "metrics object not list", file: over("{autoscaling: {metrics: {metric: x}}}"), key: "llmserve:overrides.autoscaling.metrics", want: "want a list"},
	{name: "publish delay float", file: over("{storage: {xlaCachePublishDelaySeconds: 1.5}}"), key: "llmserve:overrides.storage.xlaCachePublishDelaySeconds", want: "want a whole number"},
	{name: "bool for int", file: over("{probes: {periodSeconds: true}}"), key: "llmserve:overrides.probes.periodSeconds", want: "want a whole number"},
	{name: "override unknown field", file: over("{engin: vllm}"), key: "llmserve:overrides.engin", want: "did you mean engine?"},
	{name: "pool field typo", file: kv("llmserve:pool", "{maxNode: 3}"), key: "llmserve:pool.maxNode", want: "did you mean maxNodes?"},
	{name: "serving field typo", file: kv("llmserve:serving", "{exposre: internal}"), key: "llmserve:serving.exposre", want: "did you mean exposure?"},
	{name: "metrics field typo", file: kv("llmserve:metrics", "{prometheusUrl: 'http://p:9090'}"), key: "llmserve:metrics.prometheusUrl", want: "did you mean prometheusURL?"},
	{name: "removed installPrometheus", file: with(existing, kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter, installPrometheus: true}")), key: "llmserve:metrics.installPrometheus", want: "was removed: llmserve no longer installs kube-prometheus-stack"},
	{name: "removed installPrometheus by --set", args: []string{"--set", "metrics.installPrometheus=false"}, key: "llmserve:metrics.installPrometheus", want: "set llmserve:metrics.prometheusURL to its Prometheus"},
	{name: "removed charts", file: kv("llmserve:metrics", "{charts: {prometheusAdapter: 5.3.0}}"), key: "llmserve:metrics.charts", want: "was removed: llmserve installs no Helm chart any more"},
	{name: "field case", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], systemPool: {machinetype: e2-standard-4}}"), key: "llmserve:cluster.systemPool.machinetype", want: "did you mean machineType?"},
	{name: "field set twice", raw: "config:\n  gcp:project: my-project\n  gcp:region: us-central1\n  llmserve:cluster: {mode: standard, name: llm-dev, zones: [us-central1-b]}\n  llmserve:pool:\n    maxNodes: 2\n    maxNodes: 3\n", key: "llmserve:pool.maxNodes", want: "is set twice (also line 6)"},
	{name: "skipAwait yes", file: kv("llmserve:skipAwait", "yes"), key: "llmserve:skipAwait", want: `"yes" is not a boolean; want true or false`},
	{name: "gcpResources 0", file: kv("llmserve:gcpResources", "0"), key: "llmserve:gcpResources", want: "is not a boolean"},
	{name: "section as string", file: kv("llmserve:cluster", "standard"), key: "llmserve:cluster", want: "want an object"},
	{name: "section as list", file: kv("llmserve:pool", "[1, 2]"), key: "llmserve:pool", want: "want an object"},
	{name: "unknown key", file: kv("llmserve:clusterr", "{mode: standard}"), key: "llmserve:clusterr", want: "unknown key"},
	{name: "key case", file: kv("llmserve:modelstore", "{bucket: b-weights}"), key: "llmserve:modelstore", want: "did you mean llmserve:modelStore?"},
	{name: "key without namespace", file: kv("model", "llama-3.1-8b"), key: "model", want: "write llmserve:model"},
	{name: "foreign namespace", file: kv("aws:region", "us-east-1"), key: "aws:region", want: "not an llmserve key"},
	{name: "plain token in file", file: kv("llmserve:hfToken", "hf_abcdefghijklmnopqrstuvwxyz0123456789"), key: "llmserve:hfToken", want: "pulumi config set --secret llmserve:hfToken"},
	{name: "key twice in file", raw: "config:\n  gcp:project: my-project\n  llmserve:model: llama-3.1-8b\n  llmserve:model: gemma-7b\n", key: "llmserve:model", want: "is set twice (also line 3)"},
	{name: "not yaml", raw: "config:\n  llmserve:model: [\n", key: "--env t", want: "not YAML"},
	{name: "config not a mapping", raw: "config: [a, b]\n", key: "--env t", want: "config: want a mapping"},
	{name: "other encrypted key", file: kv("llmserve:kubeconfig", "{secure: AAABAK}"), key: "llmserve:kubeconfig", want: "is encrypted for `pulumi up`"},

	// --set on the command line.
	{name: "set without =", args: []string{"--set", "novalue"}, code: exitUsage, key: "--set", want: "want key=value"},
	{name: "set empty path", args: []string{"--set", "=3"}, code: exitUsage, key: "--set", want: "want key=value"},
	{name: "set empty segment", args: []string{"--set", "pool..maxNodes=1"}, code: exitUsage, key: "--set", want: "is not a key path"},
	{name: "set gcp zone", args: []string{"--set", "gcp.zone=us-central1-b"}, code: exitUsage, key: "--set", want: "want gcp.project or gcp.region"},
	{name: "set bad yaml", args: []string{"--set", "pool.maxNodes=[1"}, code: exitUsage, key: "--set", want: "the value is not YAML"},
	{name: "set int word", args: []string{"--set", "pool.maxNodes=three"}, key: "llmserve:pool.maxNodes", want: "want a whole number"},
	{name: "set yes", args: []string{"--set", "pool.spot=yes"}, key: "llmserve:pool.spot", want: "not a boolean"},
	{name: "set float for int", args: []string{"--set", "overrides.autoscaling.maxReplicas=2.7"}, key: "llmserve:overrides.autoscaling.maxReplicas", want: "2.7: want a whole number"},
	{name: "set NaN", args: []string{"--set", "overrides.kvCacheHeadroom=.nan"}, key: "--set", want: "llmserve:overrides.kvCacheHeadroom NaN: want a finite number"},
	{name: "set field of scalar", args: []string{"--set", "model.name=x"}, key: "--set", want: "llmserve:model is not an object"},
	{name: "set token", args: []string{"--set", "hfToken=hf_abcdefghijklmnopqrstuvwxyz"}, key: "--set hfToken", want: "export HF_TOKEN instead"},
	{name: "set skipAwait on", args: []string{"--set", "skipAwait=on"}, key: "llmserve:skipAwait", want: "is not a boolean"},
	{name: "set unknown key", args: []string{"--set", "replicas=3"}, key: "llmserve:replicas", want: "unknown key"},
	{name: "env as path", env: "t", args: []string{"--env", "../t"}, code: exitUsage, key: "--env", want: "not a path"},
	{name: "model as path", args: []string{"--model", "../../etc/passwd"}, key: "target model", want: "not a path"},
	{name: "unknown model", args: []string{"--model", "mixtral"}, key: "llmserve:model", want: "no such profile"},
	{name: "stack name too long", env: strings.Repeat("e", 90), key: "target", want: "Pulumi allows 100"},
	{name: "derived cluster name too long", env: "staging-europe-west-long", file: kv("llmserve:cluster", "{mode: standard, zones: [us-central1-b]}"), key: "llmserve:cluster.name", want: "derived from the stack name"},
	{name: "derived bucket too long", env: "staging-longer-name", file: kv("gcp:project", "my-project-with-a-long-id", "llmserve:cluster", "{mode: standard, name: c, zones: [us-central1-b]}"), key: "llmserve:modelStore.bucket", want: "derived as <gcp:project>-llmserve-<stack>"},

	// GCP identifiers.
	{name: "project id chars", file: kv("gcp:project", "My_Project"), key: "gcp:project", want: "not a project ID"},
	{name: "project id google", file: kv("gcp:project", "my-google-proj"), key: "gcp:project", want: `cannot contain "google"`},
	{name: "project id null", file: kv("gcp:project", "nullproject1"), key: "gcp:project", want: `cannot contain "null"`},
	{name: "project id ssl", file: kv("gcp:project", "my-ssl-project"), key: "gcp:project", want: `cannot contain "ssl"`},
	{name: "project id trailing hyphen", file: kv("gcp:project", "my-project-"), key: "gcp:project", want: "not a project ID"},
	{name: "project id digit first", file: kv("gcp:project", "1project"), key: "gcp:project", want: "not a project ID"},
	{name: "project id too long", file: kv("gcp:project", "a-very-long-project-id-over-thirty"), key: "gcp:project", want: "not a project ID"},
	{name: "project missing", file: kv("gcp:project", "<unset>"), key: "gcp:project", want: "required"},
	{name: "project number", file: kv("llmserve:projectNumber", "abc"), key: "llmserve:projectNumber", want: "numeric project number"},
	{name: "region is a zone", file: kv("gcp:region", "us-central1-b"), key: "gcp:region", want: "is a zone"},
	{name: "region no number", file: kv("gcp:region", "uscentral"), key: "gcp:region", want: "not a GCP region"},
	{name: "region upper case", file: kv("gcp:region", "US-CENTRAL1"), key: "gcp:region", want: "not a GCP region"},
	{name: "location malformed", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, location: us-central}"), key: "llmserve:cluster.location", want: "want a region (us-central1)"},
	{name: "zone malformed", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1]}"), key: "llmserve:cluster.zones[0]", want: "not a zone such as"},
	{name: "zone of another region", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [europe-west4-a]}"), key: "llmserve:cluster.zones[0]", want: "not a zone of us-central1"},
	{name: "zone twice", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b, us-central1-b]}"), key: "llmserve:cluster.zones[1]", want: "listed twice"},
	{name: "zone without v6e", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-a]}"), key: "llmserve:cluster.zones[0]", want: "TPU v6e is not known to be offered"},
	{name: "ai zone without v6e", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-ai1a]}"), key: "llmserve:cluster.zones[0]", want: "v6e zones of us-central1: us-central1-ai1, us-central1-b"},
	{name: "zonal cluster zones miss its zone", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, location: us-central1-c, zones: [us-central1-b]}"), key: "llmserve:cluster.zones", want: "must include its own zone us-central1-c"},
	{name: "region without v6e", file: kv("gcp:region", "europe-west1", "llmserve:cluster", "{mode: standard, name: llm-dev}"), key: "llmserve:cluster.location", want: "no zone of europe-west1 is known to offer TPU v6e"},
	{name: "regional tpu pool without zones", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev}"), key: "llmserve:cluster.zones", want: "required for a TPU v6e pool in region us-central1"},
	{name: "zonal location without v6e", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, location: us-central1-a}"), key: "llmserve:cluster.location", want: "TPU v6e is not known"},
	{name: "gke version too old", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], version: 1.30.5-gke.1000}"), key: "llmserve:cluster.version", want: "TPU v6e needs GKE 1.31.2-gke.1115000 or later"},
	{name: "gke patch too old", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], version: 1.31.1}"), key: "llmserve:cluster.version", want: "TPU v6e needs GKE"},
	{name: "gke build too old", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], version: 1.31.2-gke.1000}"), key: "llmserve:cluster.version", want: "TPU v6e needs GKE"},
	{name: "gke version v prefix", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], version: v1.31}"), key: "llmserve:cluster.version", want: "not a GKE version"},
	{name: "gke version no build", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], version: 1.31.2-gke}"), key: "llmserve:cluster.version", want: "not a GKE version"},
	{name: "gke version autopilot", file: kv("llmserve:cluster", "{mode: autopilot, name: llm-dev, version: 1.31.5-gke.1000}"), key: "llmserve:cluster.version", want: "Autopilot provisions TPU v6e with node auto-creation, which needs GKE 1.32.0"},
	{name: "release channel", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], releaseChannel: fast}"), key: "llmserve:cluster.releaseChannel", want: "want one of RAPID"},
	{name: "cluster mode", file: kv("llmserve:cluster", "{mode: gke, name: llm-dev}"), key: "llmserve:cluster.mode", want: "want one of standard, autopilot, existing"},
	{name: "cluster name", file: kv("llmserve:cluster", "{mode: standard, name: LLM_dev, zones: [us-central1-b]}"), key: "llmserve:cluster.name", want: "want 1-40 lowercase"},
	{name: "autopilot zonal", file: kv("llmserve:cluster", "{mode: autopilot, name: llm-dev, location: us-central1-b}"), key: "llmserve:cluster.location", want: "Autopilot clusters are regional"},
	{name: "bucket upper case", file: kv("llmserve:modelStore", "{bucket: Google-Weights}"), key: "llmserve:modelStore.bucket", want: "may hold only lowercase letters"},
	{name: "bucket too short", file: kv("llmserve:modelStore", "{bucket: ab}"), key: "llmserve:modelStore.bucket", want: "shorter than 3"},
	{name: "bucket goog prefix", file: kv("llmserve:modelStore", "{bucket: goog-weights}"), key: "llmserve:modelStore.bucket", want: `cannot begin with "goog"`},
	{name: "bucket google misspelt", file: kv("llmserve:modelStore", "{bucket: my-g00gle-weights}"), key: "llmserve:modelStore.bucket", want: "close misspelling"},
	{name: "bucket ip address", file: kv("llmserve:modelStore", "{bucket: 192.168.5.4}"), key: "llmserve:modelStore.bucket", want: "IP address"},
	{name: "bucket 64 chars", file: kv("llmserve:modelStore", "{bucket: "+long64+"}"), key: "llmserve:modelStore.bucket", want: "at most 63 without dots"},
	{name: "bucket dotted part 64", file: kv("llmserve:modelStore", "{bucket: weights."+long64+"}"), key: "llmserve:modelStore.bucket", want: "dot-separated part of 64"},
	{name: "bucket dotted 223", file: kv("llmserve:modelStore", "{bucket: "+strings.TrimSuffix(strings.Repeat(strings.Repeat("b", 54)+".", 4), ".")+".abcdefg}"), key: "llmserve:modelStore.bucket", want: "at most 222"},
	{name: "bucket double dot", file: kv("llmserve:modelStore", "{bucket: a..weights}"), key: "llmserve:modelStore.bucket", want: `".."`},
	{name: "bucket dot dash", file: kv("llmserve:modelStore", "{bucket: weights.-x}"), key: "llmserve:modelStore.bucket", want: "not valid in DNS names"},
	{name: "bucket leading dash", file: kv("llmserve:modelStore", "{bucket: -weights}"), key: "llmserve:modelStore.bucket", want: "start and end with a letter or digit"},
	{name: "bucket trailing underscore", file: kv("llmserve:modelStore", "{bucket: weights_}"), key: "llmserve:modelStore.bucket", want: "start and end with a letter or digit"},
	{name: "bucket space", file: kv("llmserve:modelStore", "{bucket: my weights}"), key: "llmserve:modelStore.bucket", want: "may hold only"},
	{name: "bucket gs url", file: kv("llmserve:modelStore", "{bucket: 'gs://weights'}"), key: "llmserve:modelStore.bucket", want: "may hold only"},
	{name: "bucket dotted unverified", file: kv("llmserve:modelStore", "{bucket: weights.example.com}"), key: "llmserve:modelStore.bucket", want: "GCS creates it only for a verified owner of the domain"},
	{name: "bucket domainVerified without dots", file: kv("llmserve:modelStore", "{bucket: weights, domainVerified: true}"), key: "llmserve:modelStore.domainVerified", want: "only for a bucket llmserve creates with dots"},
	{name: "bucket domainVerified on existing bucket", file: with(existing, kv("llmserve:modelStore", "{bucket: weights.example.com, domainVerified: true}")), key: "llmserve:modelStore.domainVerified", want: "remove it"},
	{name: "bucket in another region", file: kv("llmserve:modelStore", "{location: europe-west4}"), key: "llmserve:modelStore.location", want: "from another region"},
	{name: "bucket multi-region elsewhere", file: kv("llmserve:modelStore", "{location: EU}"), key: "llmserve:modelStore.location", want: "does not contain the cluster's region us-central1"},
	{name: "bucket in a zone", file: kv("llmserve:modelStore", "{location: us-central1-b}"), key: "llmserve:modelStore.location", want: "not zones; use US-CENTRAL1"},
	{name: "bucket location nonsense", file: kv("llmserve:modelStore", "{location: mars}"), key: "llmserve:modelStore.location", want: "want a region such as US-CENTRAL1"},
	{name: "storage class", file: kv("llmserve:modelStore", "{storageClass: HOT}"), key: "llmserve:modelStore.storageClass", want: "want STANDARD"},
	{name: "disk too small", file: kv("llmserve:pool", "{diskSizeGb: 5}"), key: "llmserve:pool.diskSizeGb", want: "want at least 10"},
	{name: "disk too large", file: kv("llmserve:pool", "{diskSizeGb: 100000}"), key: "llmserve:pool.diskSizeGb", want: "at most 65536 GB"},
	{name: "pool beyond GKE", file: kv("llmserve:pool", "{maxNodes: 5000}"), key: "llmserve:pool.maxNodes", want: "at most 1000 nodes per zone"},
	{name: "replicas beyond cluster", file: with(kv("llmserve:cluster", "{mode: existing, name: mine}"), over("{autoscaling: {maxReplicas: 20000}}"), kv("llmserve:pool", "{maxNodes: 20000}")), key: "autoscaling.maxReplicas", want: "at most 15000 nodes"},
	{name: "system pool beyond GKE", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], systemPool: {maxNodes: 5000}}"), key: "llmserve:cluster.systemPool.maxNodes", want: "at most 1000 nodes per zone"},
	{name: "system pool bounds", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], systemPool: {minNodes: 3, maxNodes: 1}}"), key: "llmserve:cluster.systemPool", want: "want 0 <= minNodes <= maxNodes"},
	{name: "pool bounds", file: kv("llmserve:pool", "{minNodes: 2, maxNodes: 1}"), key: "llmserve:pool", want: "want 0 <= minNodes"},
	{name: "location policy", file: kv("llmserve:pool", "{locationPolicy: FAST}"), key: "llmserve:pool.locationPolicy", want: "want ANY or BALANCED"},
	{name: "spot and reservation", file: kv("llmserve:pool", "{spot: true, reservation: r1}"), key: "llmserve:pool", want: "exclude each other"},
	{name: "driver on tpu", file: kv("llmserve:pool", "{driverVersion: LATEST}"), key: "llmserve:pool.driverVersion", want: "NVIDIA drivers are for GPU pools"},
	{name: "driver version", file: with(gemma1b, kv("llmserve:pool", "{driverVersion: '535'}")), key: "llmserve:pool.driverVersion", want: "want LATEST or DEFAULT"},
	{name: "capacity", file: kv("llmserve:pool", "{maxNodes: 1}"), args: []string{"--set", "overrides.autoscaling.minReplicas=1", "--set", "overrides.autoscaling.maxReplicas=2"}, key: "autoscaling.maxReplicas", want: "raise pool.maxNodes to 2"},
	{name: "idle slices", file: kv("llmserve:pool", "{minNodes: 5, maxNodes: 5}"), key: "llmserve:pool.minNodes", want: "more idle slices"},
	{name: "buffer negative", args: []string{"--set", "overrides.autoscaling.buffer.replicas=-1"}, key: "autoscaling.buffer.replicas", want: "must not be negative"},
	{name: "buffer beyond pool", file: with(kv("llmserve:pool", "{maxNodes: 5}"), over("{autoscaling: {minReplicas: 1, buffer: {replicas: 2}}}")), key: "autoscaling.buffer.replicas", want: "raise pool.maxNodes to 6 or lower buffer.replicas"},
	{name: "buffer never used", file: over("{autoscaling: {buffer: {replicas: 3}}}"), key: "autoscaling.buffer.replicas", want: "lower buffer.replicas to 1"},
	{name: "buffer word", file: over("{autoscaling: {buffer: {replicas: one}}}"), key: "llmserve:overrides.autoscaling.buffer.replicas", want: "want a whole number"},

	// Settings the mode ignores.
	{name: "existing with zones", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, zones: [us-central1-b]}")), key: "llmserve:cluster.zones", want: "ignored in mode existing"},
	{name: "existing with channel", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, releaseChannel: STABLE}")), key: "llmserve:cluster.releaseChannel", want: "ignored in mode existing"},
	{name: "existing with version", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, version: 1.32.0}")), key: "llmserve:cluster.version", want: "ignored in mode existing"},
	{name: "existing with network", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, network: vpc}")), key: "llmserve:cluster.network", want: "ignored in mode existing"},
	{name: "existing with subnetwork", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, subnetwork: sub}")), key: "llmserve:cluster.subnetwork", want: "ignored in mode existing"},
	{name: "existing with system pool", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, systemPool: {maxNodes: 2}}")), key: "llmserve:cluster.systemPool", want: "ignored in mode existing"},
	{name: "existing with deletion protection", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, deletionProtection: false}")), key: "llmserve:cluster.deletionProtection", want: "ignored in mode existing"},
	{name: "existing with location", file: with(existing, kv("llmserve:cluster", "{mode: existing, name: mine, location: us-central1}")), key: "llmserve:cluster.location", want: "ignored in mode existing"},
	{name: "kubeconfig in standard", args: []string{"--set", "kubeconfig=/etc/hosts"}, key: "llmserve:kubeconfig", want: "only for cluster.mode existing"},
	{name: "context in standard", file: kv("llmserve:cluster", "{mode: standard, name: llm-dev, zones: [us-central1-b], context: kind-kind}"), key: "llmserve:cluster.context", want: "only for cluster.mode existing"},
	{name: "system pool in autopilot", file: kv("llmserve:cluster", "{mode: autopilot, name: llm-dev, systemPool: {maxNodes: 2}}"), key: "llmserve:cluster.systemPool", want: "ignored in mode autopilot"},
	{name: "spot in autopilot", file: with(kv("llmserve:cluster", "{mode: autopilot, name: llm-dev}"), kv("llmserve:pool", "{spot: true}")), key: "llmserve:pool.spot", want: "llmserve creates no node pool here"},
	{name: "pool create in autopilot", file: with(kv("llmserve:cluster", "{mode: autopilot, name: llm-dev}"), kv("llmserve:pool", "{create: true}")), key: "llmserve:pool.create", want: "Autopilot provisions TPU nodes"},
	{name: "reservation without pool", file: with(existing, kv("llmserve:pool", "{reservation: r1}")), key: "llmserve:pool.reservation", want: "llmserve creates no node pool here"},
	{name: "disk without pool", file: with(existing, kv("llmserve:pool", "{diskSizeGb: 200}")), key: "llmserve:pool.diskSizeGb", want: "llmserve creates no node pool here"},
	{name: "image cache disk without pool", file: with(existing, kv("llmserve:pool", "{imageCacheDisk: global/images/vllm-cache}")), key: "llmserve:pool.imageCacheDisk", want: "llmserve creates no node pool here"},
	{name: "location policy without pool", file: with(existing, kv("llmserve:pool", "{locationPolicy: BALANCED}")), key: "llmserve:pool.locationPolicy", want: "llmserve creates no node pool here"},
	{name: "allow public without public", file: kv("llmserve:serving", "{allowPublic: true}"), key: "llmserve:serving.allowPublic", want: "only means something with serving.exposure public"},
	{name: "internal LB off GKE", file: with(existing, kv("llmserve:serving", "{exposure: internal}")), key: "llmserve:serving.exposure", want: "other providers ignore the annotation"},
	{name: "kubeconfig missing", file: existing, args: []string{"--set", "kubeconfig=/nonexistent/kubeconfig"}, key: "llmserve:kubeconfig", want: "no such file"},
	{name: "kubeconfig directory", file: existing, args: []string{"--set", "kubeconfig=$DIR"}, key: "llmserve:kubeconfig", want: "is a directory"},
	{name: "no gcp in standard", file: kv("llmserve:gcpResources", "false"), key: "llmserve:gcpResources", want: "needs llmserve:cluster.mode existing"},
	{name: "no gcp without bucket", file: with(existing, kv("llmserve:modelStore", "<unset>")), key: "llmserve:modelStore.bucket", want: "required when llmserve:gcpResources is false"},
	{name: "pool create without gcp", file: with(existing, kv("llmserve:pool", "{create: true}")), key: "llmserve:pool.create", want: "no node pool can be created"},

	// Serving and names.
	{name: "namespace kube-system", file: kv("llmserve:serving", "{namespace: kube-system}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace kube-public", file: kv("llmserve:serving", "{namespace: kube-public}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace gke-managed", file: kv("llmserve:serving", "{namespace: gke-managed-system}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace gmp-public", file: kv("llmserve:serving", "{namespace: gmp-public}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace custom-metrics", file: kv("llmserve:serving", "{namespace: custom-metrics}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace istio-system", file: kv("llmserve:serving", "{namespace: istio-system}"), key: "llmserve:serving.namespace", want: "a system namespace"},
	{name: "namespace upper case", file: kv("llmserve:serving", "{namespace: LLM}"), key: "llmserve:serving.namespace", want: "not a DNS-1123 label"},
	{name: "namespace too long", file: kv("llmserve:serving", "{namespace: "+long64+"}"), key: "llmserve:serving.namespace", want: "at most 63"},
	{name: "service account", file: kv("llmserve:serving", "{serviceAccount: my_sa}"), key: "llmserve:serving.serviceAccount", want: "not a DNS-1123 label"},
	{name: "public without consent", file: kv("llmserve:serving", "{exposure: public}"), key: "llmserve:serving.exposure", want: "set serving.allowPublic: true"},
	{name: "exposure typo", file: kv("llmserve:serving", "{exposure: external}"), key: "llmserve:serving.exposure", want: "want cluster (ClusterIP)"},

	// The model server.
	{name: "model id path", file: over("{model: ../weights/llama}"), key: "model", want: "want a Hugging Face model id"},
	{name: "model id url", file: over("{model: 'gs://bucket/llama'}"), key: "model", want: "want a Hugging Face model id"},
	{name: "model id absolute", file: over("{model: /data/llama}"), key: "model", want: "want a Hugging Face model id"},
	{name: "model id no owner", file: over("{model: Llama-3.1-8B}"), key: "model", want: "want a Hugging Face model id"},
	{name: "model missing", file: over("{model: ''}"), key: "model", want: "required"},
	{name: "context too long llama", file: over("{server: {maxModelLen: 200000}}"), key: "server.maxModelLen", want: "has a context of 131072 tokens"},
	{name: "context too long qwen", file: with(qwen, over("{server: {maxModelLen: 65536}}")), key: "server.maxModelLen", want: "has a context of 32768 tokens"},
	{name: "context too long gemma3", file: with(gemma1b, over("{server: {maxModelLen: 65536}}")), key: "server.maxModelLen", want: "has a context of 32768 tokens"},
	{name: "jetstream target too long", file: with(gemma7b, over("{jetstream: {maxTargetLength: 16384}}")), key: "jetstream.maxTargetLength", want: "has a context of 8192 tokens"},
	{name: "env HF_TOKEN", file: over("{server: {env: {HF_TOKEN: x}}}"), key: "server.env.HF_TOKEN", want: "Kubernetes Secret"},
	{name: "env legacy token", file: over("{server: {env: {HUGGING_FACE_HUB_TOKEN: x}}}"), key: "server.env.HUGGING_FACE_HUB_TOKEN", want: "Kubernetes Secret"},
	{name: "env xla cache path", file: over("{server: {env: {VLLM_XLA_CACHE_PATH: /tmp/xla}}}"), key: "server.env.VLLM_XLA_CACHE_PATH", want: "set storage.xlaCache instead"},
	{name: "env jax cache", file: over("{server: {env: {JAX_COMPILATION_CACHE_DIR: /tmp/jax}}}"), key: "server.env.JAX_COMPILATION_CACHE_DIR", want: "set storage.xlaCache instead"},
	{name: "env xla cache dir", file: over("{server: {env: {XLA_CACHE_DIR: /tmp}}}"), key: "server.env.XLA_CACHE_DIR", want: "set storage.xlaCache instead"},
	{name: "env token value", file: over("{server: {env: {MY_VAR: hf_abcdefghijklmnopqrstuvwxyz0123456789}}}"), key: "server.env.MY_VAR", want: "looks like a Hugging Face token"},
	{name: "env api key", file: over("{server: {env: {VLLM_API_KEY: s3cret}}}"), key: "server.env.VLLM_API_KEY", want: "looks like a credential"},
	{name: "env bad name", file: over("{server: {env: {1BAD: x}}}"), key: "server.env.1BAD", want: "not an environment variable name"},
	{name: "arg hf token", file: over("{server: {extraArgs: ['--hf-token=abc']}}"), key: "server.extraArgs[0]", want: "passes a token on the command line"},
	{name: "arg token value", file: over("{server: {extraArgs: ['--foo', 'hf_abcdefghijklmnopqrstuvwxyz0123']}}"), key: "server.extraArgs[1]", want: "passes a token"},
	{name: "arg api key", file: over("{server: {extraArgs: ['--api-key=abc']}}"), key: "server.extraArgs[0]", want: "passes a token"},
	{name: "arg port", file: over("{server: {extraArgs: ['--port=9000']}}"), key: "server.extraArgs[0]", want: "from server.port"},
	{name: "arg model", file: over("{server: {extraArgs: ['--model=x/y']}}"), key: "server.extraArgs[0]", want: "from model"},
	{name: "arg download dir", file: over("{server: {extraArgs: ['--download-dir=/tmp']}}"), key: "server.extraArgs[0]", want: "from storage.mountPath"},
	{name: "arg tp short", file: over("{server: {extraArgs: ['-tp=4']}}"), key: "server.extraArgs[0]", want: "from server.tensorParallelSize"},
	{name: "arg host", file: over("{server: {extraArgs: ['--host=127.0.0.1']}}"), key: "server.extraArgs[0]", want: "listens on 0.0.0.0"},
	{name: "arg max model len", file: over("{server: {extraArgs: ['--max-model-len=8192']}}"), key: "server.extraArgs[0]", want: "from server.maxModelLen"},
	{name: "arg max seqs", file: over("{server: {extraArgs: ['--max-num-seqs', '8']}}"), key: "server.extraArgs[0]", want: "from server.maxNumSeqs"},
	{name: "jetstream arg model", file: with(gemma7b, over("{jetstream: {extraArgs: ['model_name=llama2-7b']}}")), key: "jetstream.extraArgs[0]", want: "from jetstream.modelName"},
	{name: "jetstream arg metrics port", file: with(gemma7b, over("{jetstream: {extraArgs: ['prometheus_port=9200']}}")), key: "jetstream.extraArgs[0]", want: "from jetstream.metricsPort"},
	{name: "jetstream arg checkpoint", file: with(gemma7b, over("{jetstream: {extraArgs: ['load_parameters_path=gs://x']}}")), key: "jetstream.extraArgs[0]", want: "from jetstream.checkpointPath"},
	{name: "jetstream arg token", file: with(gemma7b, over("{jetstream: {extraArgs: ['hf_access_token=hf_abcdefghijklmnopqrstuvwxyz']}}")), key: "jetstream.extraArgs[0]", want: "passes a token"},
	{name: "engine", file: over("{engine: tgi}"), key: "engine", want: "want vllm or jetstream"},
	{name: "image latest", file: over("{image: 'vllm/vllm-tpu:latest'}"), key: "image", want: "pin a version tag or digest"},
	{name: "image untagged", file: over("{image: vllm/vllm-tpu}"), key: "image", want: "pin a version tag or digest"},
	{name: "image with space", file: over("{image: 'vllm/vllm tpu:v1'}"), key: "image", want: "pin a version tag or digest"},
	{name: "image upper case path", file: over("{image: 'vllm/VLLM-tpu:v0.19.0'}"), key: "image", want: "pin a version tag or digest"},
	{name: "image bad digest", file: over("{image: 'vllm/vllm-tpu@sha256:abc'}"), key: "image", want: "pin a version tag or digest"},
	{name: "gpu image on tpu", file: over("{image: 'vllm/vllm-openai:v0.18.2'}"), key: "image", want: "cannot drive TPUs"},
	{name: "dtype", file: over("{dtype: fp4}"), key: "dtype", want: "want bfloat16"},
	{name: "port", file: over("{server: {port: 70000}}"), key: "server.port", want: "want 1-65535"},
	{name: "max seqs zero", file: over("{server: {maxNumSeqs: 0}}"), key: "server.maxNumSeqs", want: "must be at least 1"},
	{name: "batched below seqs", file: over("{server: {maxNumBatchedTokens: 32}}"), key: "server.maxNumBatchedTokens", want: "vLLM needs at least maxNumSeqs"},
	{name: "mount path", file: over("{storage: {mountPath: data}}"), key: "storage.mountPath", want: "want an absolute directory"},
	{name: "mount option", file: over("{storage: {mountOptions: ['temp-dir=/tmp']}}"), key: "storage.mountOptions[0]", want: "does not allow temp-dir"},
	{name: "mount option comma", file: over("{storage: {mountOptions: ['implicit-dirs,x']}}"), key: "storage.mountOptions[0]", want: "one option per list item"},
	{name: "cache medium", file: over("{storage: {fileCacheMedium: Memroy}}"), key: "storage.fileCacheMedium", want: "want Memory"},
	{name: "xla cache mode", file: over("{storage: {xlaCache: global}}"), key: "storage.xlaCache", want: "want shared"},
	{name: "xla cache on gpu", file: with(gemma1b, over("{storage: {xlaCache: shared}}")), key: "storage.xlaCache", want: "use off on GPUs"},
	{name: "sidecar limit", file: over("{storage: {sidecarMemoryLimit: -1Gi}}"), key: "storage.sidecarMemoryLimit", want: "must be greater than 0"},
	{name: "memory quantity", file: over("{server: {memory: lots}}"), key: "server.memory", want: "not a Kubernetes quantity"},
	{name: "startup too short", file: over("{probes: {startupTimeoutSeconds: 30}}"), key: "probes.startupTimeoutSeconds", want: "want at least 60"},
	{name: "probe period", file: over("{probes: {periodSeconds: -5}}"), key: "probes.periodSeconds", want: "want between 1 and startupTimeoutSeconds"},
	{name: "params zero", file: over("{paramsBillions: 0}"), key: "paramsBillions", want: "required"},
	{name: "headroom", file: over("{kvCacheHeadroom: 5}"), key: "kvCacheHeadroom", want: "between 0 and 4"},
	{name: "topology", file: over("{accelerator: {topology: 2x3}}"), key: "accelerator.topology", want: "want one of 1x1, 2x2, 2x4"},
	{name: "accelerator type", file: over("{accelerator: {type: nvidia-t4}}"), key: "accelerator.type", want: "want tpu-v6e or a GPU"},
	{name: "tp mismatch", file: over("{server: {tensorParallelSize: 4}}"), key: "server.tensorParallelSize", want: "must equal the 1 chips"},
	{name: "model too big for slice", file: over("{dtype: float32}"), key: "accelerator.topology", want: "needs 2x2"},
	{name: "jetstream on gpu", file: with(gemma7b, over("{accelerator: {type: nvidia-h100-80gb, topology: '', count: 8}}")), key: "engine jetstream", want: "serves on TPUs"},
	{name: "jetstream checkpoint url", file: with(gemma7b, over("{jetstream: {checkpointPath: 'gs://b/c'}}")), key: "jetstream.checkpointPath", want: "inside the model bucket"},
	{name: "jetstream metrics port", file: with(gemma7b, over("{jetstream: {metricsPort: 9000}}")), key: "jetstream.metricsPort", want: "want a free port"},

	// Metrics and units.
	{name: "fraction as percent", file: over("{autoscaling: {metrics: [{metric: 'vllm:kv_cache_usage_perc', target: 80}]}}"), key: "autoscaling.metrics[0]", want: "write 80% as 0.8"},
	{name: "jetstream slots as percent", file: with(gemma7b, over("{autoscaling: {metrics: [{metric: jetstream_slots_used_percentage, target: 75}]}}")), key: "autoscaling.metrics[0]", want: "0..1 fraction"},
	{name: "memory fraction as percent", file: with(promAdapt, over("{autoscaling: {metrics: [{metric: memory_used_percentage, target: 80}]}}")), key: "autoscaling.metrics[0]", want: "0..1 fraction"},
	{name: "percent as fraction", file: with(gemma1b, operator, over("{autoscaling: {metrics: [{metric: DCGM_FI_DEV_GPU_UTIL, target: 0.8}]}}")), key: "autoscaling.metrics[0]", want: "looks like a fraction"},
	{name: "percent over 100", file: with(gemma1b, operator, over("{autoscaling: {metrics: [{metric: DCGM_FI_DEV_GPU_UTIL, target: 800}]}}")), key: "autoscaling.metrics[0]", want: "the metric is a percentage, 0-100"},
	{name: "bytes as fraction", file: over("{autoscaling: {metrics: [{metric: 'kubernetes.io|node|accelerator|memory_used', target: 0.8}]}}"), key: "autoscaling.metrics[0]", want: "the metric is in bytes"},
	{name: "bytes beyond memory", file: over("{autoscaling: {metrics: [{metric: 'kubernetes.io|node|accelerator|memory_used', target: 1e15}]}}"), key: "autoscaling.metrics[0]", want: "bytes of accelerator memory"},
	{name: "running beyond batch", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_running', target: 100}]}}"), key: "autoscaling.metrics[0]", want: "server.maxNumSeqs 64"},
	{name: "target zero", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_waiting', target: 0}]}}"), key: "autoscaling.metrics[0]", want: "must be greater than 0"},
	{name: "target negative", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_waiting', target: -3}]}}"), key: "autoscaling.metrics[0]", want: "must be greater than 0"},
	{name: "unknown metric", file: over("{autoscaling: {metrics: [{metric: 'vllm:queue', target: 3}]}}"), key: "autoscaling.metrics[0]", want: "unknown metric"},
	{name: "removed metric", file: over("{autoscaling: {metrics: [{metric: 'vllm:gpu_cache_usage_perc', target: 0.8}]}}"), key: "autoscaling.metrics[0]", want: "was removed from vLLM"},
	{name: "metric twice", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_waiting', target: 5}, {metric: 'vllm:num_requests_waiting', target: 9}]}}"), key: "autoscaling.metrics[1]", want: "listed twice"},
	{name: "selector on pods metric", file: over("{autoscaling: {metrics: [{metric: 'vllm:num_requests_waiting', target: 5, selector: {a: b}}]}}"), key: "autoscaling.metrics[0]", want: "selector is for accelerator"},
	{name: "engine metric mismatch", file: over("{autoscaling: {metrics: [{metric: jetstream_prefill_backlog_size, target: 3}]}}"), key: "autoscaling.metrics[0]", want: "not exported by engine"},
	{name: "no metrics", file: over("{autoscaling: {metrics: []}}"), key: "autoscaling.metrics", want: "list at least one"},
	{name: "adapter", file: kv("llmserve:metrics", "{adapter: keda}"), key: "llmserve:metrics.adapter", want: "want stackdriver"},
	{name: "backend", file: kv("llmserve:metrics", "{backend: thanos}"), key: "llmserve:metrics.backend", want: "want managed-prometheus"},
	{name: "scrape too fast", file: kv("llmserve:metrics", "{scrapeInterval: 1s}"), key: "llmserve:metrics.scrapeInterval", want: "use 5s or more"},
	{name: "scrape syntax", file: kv("llmserve:metrics", "{scrapeInterval: 5 seconds}"), key: "llmserve:metrics.scrapeInterval", want: "not a Prometheus duration"},
	{name: "system scrape", file: kv("llmserve:metrics", "{systemScrapeInterval: 5s}"), key: "llmserve:metrics.systemScrapeInterval", want: "use 15s or more"},
	{name: "prometheus URL missing", file: with(existing, kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter}")), key: "llmserve:metrics.prometheusURL", want: "required with backend prometheus-operator and adapter prometheus-adapter"},
	{name: "prometheus URL scheme", file: with(existing, kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter, prometheusURL: 'ftp://prometheus:9090'}")), key: "llmserve:metrics.prometheusURL", want: "not an http or https URL"},
	{name: "monitor label value", file: with(existing, kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter, prometheusURL: 'http://p:9090', monitorLabels: {release: 'a b'}}")), key: "llmserve:metrics.monitorLabels.release", want: "not a Kubernetes label value"},
	{name: "adapter image untagged", file: kv("llmserve:metrics", "{adapterImage: gcr.io/gke-release/custom-metrics-stackdriver-adapter}"), key: "llmserve:metrics.adapterImage", want: "pin a version tag"},
	{name: "install adapter none", file: kv("llmserve:metrics", "{adapter: none, installAdapter: true}"), key: "llmserve:metrics.installAdapter", want: "adapter is none"},
	{name: "stackdriver on operator", file: with(existing, kv("llmserve:metrics", "{backend: prometheus-operator}")), key: "llmserve:metrics.adapter", want: "reads Cloud Monitoring"},
	{name: "operator on created cluster", file: kv("llmserve:metrics", "{backend: prometheus-operator, adapter: prometheus-adapter, prometheusURL: 'http://p:9090'}"), key: "llmserve:metrics.backend", want: "the cluster this stack creates (cluster.mode standard) has none"},
	{name: "policy type", file: over("{autoscaling: {behavior: {scaleUp: {policies: [{type: Replicas, value: 1, periodSeconds: 15}]}}}}"), key: "autoscaling.behavior.scaleUp.policies[0].type", want: "want Pods or Percent"},
	{name: "stabilization window", file: over("{autoscaling: {behavior: {scaleDown: {stabilizationWindowSeconds: 7200}}}}"), key: "autoscaling.behavior.scaleDown.stabilizationWindowSeconds", want: "want 0-3600"},
	{name: "min replicas", file: over("{autoscaling: {minReplicas: 0}}"), key: "autoscaling.minReplicas", want: "must be at least 1"},
}

func TestCLIConfigTable(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	require.GreaterOrEqual(t, len(cliCases), 150)
	seen := map[string]bool{}
	for _, tc := range cliCases {
		require.False(t, seen[tc.name], "duplicate row %q", tc.name)
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := tc.env
			if env == "" {
				env = "t"
			}
			content := tc.raw
			if content == "" {
				content = renderEnv(with(baseEnv, tc.file))
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+env+".yaml"), []byte(content), 0o644))
			args := []string{"validate", "--env", env, "--dir", dir}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "$DIR", dir))
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), args, &out, &errOut)
			want := tc.code
			if want == 0 {
				want = exitInvalid
			}
			assert.Equal(t, want, code, "file:\n%s\nstderr:\n%s", content, errOut.String())
			assert.True(t, namesKey(errOut.String(), tc.key, tc.want), "no line names %q with %q:\n%s\nfile:\n%s", tc.key, tc.want, errOut.String(), content)
		})
	}
}

// namesKey says whether a line of the output names key (as a whole key: followed by a
// space, a colon, or the end) and holds want.
func namesKey(out, key, want string) bool {
	for _, l := range problemLines(out) {
		for i := strings.Index(l, key); i >= 0; {
			end := i + len(key)
			if (end == len(l) || strings.ContainsRune(" :", rune(l[end]))) && strings.Contains(l, want) {
				return true
			}
			next := strings.Index(l[i+1:], key)
			if next < 0 {
				break
			}
			i += 1 + next
		}
	}
	return false
}

// TestCLIBaseEnvIsValid: the rows' base file passes, so every failure is the row's own.
func TestCLIBaseEnvIsValid(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.t.yaml"), []byte(renderEnv(baseEnv)), 0o644))
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), []string{"validate", "--env", "t", "--dir", dir}, &out, &errOut), errOut.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.x.yaml"), []byte(renderEnv(with(baseEnv, existing))), 0o644))
	require.Equal(t, exitOK, run(context.Background(), []string{"validate", "--env", "x", "--dir", dir}, &out, &errOut), errOut.String())
}

// TestMessagesPointAtTheFileLine: a problem with a key set in the env file names the file
// and the key's line, for decoding errors and validation alike; one set by --set does not.
func TestMessagesPointAtTheFileLine(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	dir := t.TempDir()
	file := filepath.Join(dir, "Pulumi.t.yaml")
	content := "config:\n  gcp:project: my-project\n  gcp:region: us-central1\n" +
		"  llmserve:cluster:\n    mode: standard\n    name: llm-dev\n    zones: [us-central1-b]\n" +
		"  llmserve:pool:\n    maxNodes: three\n"
	require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"validate", "--env", "t", "--dir", dir}, &out, &errOut)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut.String(), file+`:9: llmserve:pool.maxNodes "three": want a whole number`)

	content = strings.Replace(content, "maxNodes: three", "maxNodes: 2\n  llmserve:serving:\n    namespace: kube-system", 1)
	require.NoError(t, os.WriteFile(file, []byte(content), 0o644))
	errOut.Reset()
	code = run(context.Background(), []string{"validate", "--env", "t", "--dir", dir, "--set", "cluster.releaseChannel=fast"}, &out, &errOut)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut.String(), file+`:11: llmserve:serving.namespace "kube-system": a system namespace`)
	assert.Contains(t, errOut.String(), "\nllmserve:cluster.releaseChannel \"fast\"", "a key set by --set has no file line")
}

// TestSetAliasBomb: a --set value that expands exponentially through YAML aliases is refused
// quickly rather than walked.
func TestSetAliasBomb(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	bomb := "{a: &a [x,x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b], d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c], e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d], f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e], g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]}"
	code, _, errOut := llmserve(t, "validate", "--env", "dev", "--set", "pool="+bomb)
	assert.NotEqual(t, exitOK, code, errOut)
	assert.NotEqual(t, exitInternal, code, errOut)
}

// TestCLIEveryKeyUnsetVersusInvalid: every key llmserve reads, found by walking the config
// types (so a new key cannot be missed), is refused naming that key when written empty
// (`--set key=`), where leaving it out would take its default; and every whole-number key is
// refused when written negative. Defaults apply only to keys left out (issue 21).
func TestCLIEveryKeyUnsetVersusInvalid(t *testing.T) {
	t.Setenv("HF_TOKEN", "hf_test")
	var cases []cliCase
	for _, k := range stacks.ConfigKeys {
		if k == "hfToken" {
			continue // --set hfToken is refused whatever its value: the token comes from $HF_TOKEN
		}
		cases = append(cases, cliCase{name: "empty " + k, args: []string{"--set", k + "="}, key: "llmserve:" + k, want: "is empty"})
	}
	sections := map[string]any{"cluster": stacks.ClusterConfig{}, "pool": stacks.PoolConfig{}, "modelStore": stacks.ModelStoreConfig{},
		"serving": stacks.ServingConfig{}, "metrics": stacks.MetricsConfig{}, "overrides": stacks.Profile{}}
	for sec, v := range sections {
		for _, f := range configFields(reflect.TypeOf(v), "") {
			path := sec + "." + f.path
			if sec == "overrides" && (f.path == "accelerator.topology" || f.path == "accelerator.count") {
				continue // an override may clear these to switch between TPU and GPU
			}
			cases = append(cases, cliCase{name: "empty " + path, args: []string{"--set", path + "="}, key: "llmserve:" + path, want: "is empty"})
			if f.kind == reflect.Int {
				key := "llmserve:" + path
				if sec == "overrides" {
					key = f.path // profile problems name the profile field
				}
				args := []string{"--set", path + "=-1"}
				if strings.HasPrefix(f.path, "jetstream.") {
					args = append(args, "--set", "model=gemma-7b") // read only by the jetstream engine
				}
				cases = append(cases, cliCase{name: "negative " + path, args: args, key: key})
			}
		}
	}
	require.Greater(t, len(cases), 100)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.t.yaml"), []byte(renderEnv(baseEnv)), 0o644))
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"validate", "--env", "t", "--dir", dir}, tc.args...), &out, &errOut)
			assert.Equal(t, exitInvalid, code, "stderr:\n%s", errOut.String())
			assert.True(t, namesKey(errOut.String(), tc.key, tc.want), "no line names %q with %q:\n%s", tc.key, tc.want, errOut.String())
		})
	}
}

type configField struct {
	path string
	kind reflect.Kind
}

// configFields lists the leaf fields of a config type by their yaml names: nested objects
// are walked, lists and maps are leaves.
func configFields(t reflect.Type, prefix string) []configField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []configField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		path := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, configFields(ft, path+".")...)
			continue
		}
		out = append(out, configField{path: path, kind: ft.Kind()})
	}
	return out
}
