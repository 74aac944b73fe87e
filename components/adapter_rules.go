package components

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/catalog"
)

// AdapterRules is prometheus-adapter's `rules` block (its Helm chart's values), generated
// from the same metric declarations as the HPA so the served names cannot drift from the
// names the HPA asks for (kubernetes-sigs/prometheus-adapter docs/config.md).
type AdapterRules struct {
	// Default false: serve only what the HPA needs, not every series in Prometheus.
	Default  bool          `yaml:"default" json:"default"`
	Custom   []AdapterRule `yaml:"custom,omitempty" json:"custom,omitempty"`
	External []AdapterRule `yaml:"external,omitempty" json:"external,omitempty"`
}

// AdapterRule is one discovery-and-query rule.
type AdapterRule struct {
	SeriesQuery  string           `yaml:"seriesQuery" json:"seriesQuery"`
	Resources    AdapterResources `yaml:"resources,omitempty" json:"resources,omitempty"`
	Name         AdapterName      `yaml:"name" json:"name"`
	MetricsQuery string           `yaml:"metricsQuery" json:"metricsQuery"`
}

// AdapterResources maps series labels to Kubernetes resources.
type AdapterResources struct {
	Overrides map[string]AdapterResource `yaml:"overrides,omitempty" json:"overrides,omitempty"`
}

// AdapterResource names a Kubernetes resource.
type AdapterResource struct {
	Resource string `yaml:"resource" json:"resource"`
}

// AdapterName renames a series to the metric name served.
type AdapterName struct {
	Matches string `yaml:"matches" json:"matches"`
	As      string `yaml:"as" json:"as"`
}

// RuleScope keeps every query to this deployment. prometheus-adapter's queries are global:
// without these filters two apps with the same metric names scale on each other's load
// (seed 000).
type RuleScope struct {
	Backend   string // managed-prometheus series carry cluster labels; a local Prometheus's do not
	Cluster   string
	Namespace string
}

var promLabelValue = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// PrometheusAdapterRules generates the rules for the declared metrics.
func PrometheusAdapterRules(metrics []string, scope RuleScope) (AdapterRules, error) {
	if !promLabelValue.MatchString(scope.Namespace) || (scope.Backend == catalog.BackendManaged && !promLabelValue.MatchString(scope.Cluster)) {
		return AdapterRules{}, fmt.Errorf("rule scope %+v: cluster and namespace must be plain label values", scope)
	}
	rules := AdapterRules{}
	seen := map[string]bool{}
	for _, name := range metrics {
		m, ok := catalog.LookupMetric(name)
		if !ok || seen[name] || !slices.Contains(m.Adapters, catalog.AdapterPrometheus) {
			continue
		}
		seen[name] = true
		switch m.Source {
		case catalog.ServerGauge:
			rules.Custom = append(rules.Custom, podRule(m.Name, catalog.PrometheusMetricName(m), "sum", scope))
		case catalog.GPUExporterMetric:
			rules.Custom = append(rules.Custom, podRule(catalog.GPUUtilizationRecord, catalog.GPUUtilizationRecord, "avg", scope))
		case catalog.AcceleratorMetric:
			rules.External = append(rules.External, acceleratorMemoryRule(scope))
		}
	}
	return rules, nil
}

// podRule serves a per-pod series as a Pods metric, within the namespace (and cluster).
func podRule(series, as, agg string, scope RuleScope) AdapterRule {
	filter := fmt.Sprintf(`namespace=%q,pod!=""`, scope.Namespace)
	if scope.Backend == catalog.BackendManaged {
		filter += fmt.Sprintf(`,cluster=%q`, scope.Cluster)
	}
	return AdapterRule{
		// Managed Prometheus's frontend rejects a regex on the metric name: name it exactly.
		SeriesQuery: series + "{" + filter + "}",
		Resources: AdapterResources{Overrides: map[string]AdapterResource{
			"namespace": {Resource: "namespace"}, "pod": {Resource: "pod"},
		}},
		Name:         AdapterName{Matches: "^" + regexp.QuoteMeta(series) + "$", As: as},
		MetricsQuery: fmt.Sprintf("%s(<<.Series>>{<<.LabelMatchers>>,%s}) by (<<.GroupBy>>)", agg, filter),
	}
}

// acceleratorMemoryRule is seed 000's memory_used_percentage: the average accelerator memory
// in use over the average total, on this cluster's nodes, as a 0..1 fraction.
func acceleratorMemoryRule(scope RuleScope) AdapterRule {
	sel := fmt.Sprintf(`{cluster_name=%q}`, scope.Cluster)
	used, total := "kubernetes_io:node_accelerator_memory_used", "kubernetes_io:node_accelerator_memory_total"
	return AdapterRule{
		SeriesQuery:  used + sel,
		Name:         AdapterName{Matches: "^" + regexp.QuoteMeta(used) + "$", As: "memory_used_percentage"},
		MetricsQuery: fmt.Sprintf("avg(%s%s) / avg(%s%s)", used, sel, total, sel),
	}
}

// String renders a rule for messages.
func (r AdapterRule) String() string {
	return strings.Join([]string{r.Name.As, r.SeriesQuery}, " <- ")
}
