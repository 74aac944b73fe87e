package stacks

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/components"
	"k8s.io/apimachinery/pkg/util/validation"
)

// ExamplePrometheusURL is the Service the Prometheus Operator creates and manages in the
// namespace of every Prometheus whose spec.serviceName is empty, port "web" 9090
// (prometheus-operator v0.85.0 Documentation/api-reference/api.md, PrometheusSpec
// serviceName: "the operator will create and manage a headless service named
// prometheus-operated"; Documentation/platform/troubleshooting.md port-forwards
// svc/prometheus-operated 9090), for a Prometheus in the namespace monitoring.
const ExamplePrometheusURL = "http://prometheus-operated.monitoring.svc:9090"

// monitorLabelsOwned are the label keys llmserve sets on the objects it creates: a monitor
// label may not replace them (llmserve.dev/stack marks what the stack owns).
var monitorLabelsOwned = []string{components.LabelPartOf, components.LabelManagedBy, components.LabelName,
	components.LabelComponent, "app.kubernetes.io/instance"}

// usesPrometheusURL says whether prometheus-adapter is installed to query a Prometheus
// Operator's Prometheus: the one case llmserve:metrics.prometheusURL is read.
func (c *Config) usesPrometheusURL() bool {
	m := c.Metrics
	return m.Backend == catalog.BackendOperator && m.Adapter == catalog.AdapterPrometheus && *m.InstallAdapter
}

// validateOperatorMetrics checks the settings of backend prometheus-operator: the Prometheus
// URL, the monitor labels and the DCGM exporter switch.
func (c *Config) validateOperatorMetrics(p *problems) {
	m := c.Metrics
	if m.PrometheusURL != "" {
		if !c.usesPrometheusURL() {
			p.addf("llmserve:metrics.prometheusURL: read only by prometheus-adapter on backend prometheus-operator (installAdapter true); here nothing queries it (backend %s, adapter %s); remove prometheusURL", m.Backend, m.Adapter)
		} else if why := checkHTTPURL(m.PrometheusURL); why != "" {
			p.addf("llmserve:metrics.prometheusURL %q: %s; want the absolute http or https URL of the Prometheus prometheus-adapter queries, such as %s", m.PrometheusURL, why, ExamplePrometheusURL)
		}
	}
	if len(m.MonitorLabels) > 0 && m.Backend != catalog.BackendOperator {
		p.addf("llmserve:metrics.monitorLabels: labels for the Prometheus Operator's ServiceMonitors and PrometheusRules; backend %s makes PodMonitorings, which need none; remove monitorLabels", m.Backend)
	}
	for _, k := range slices.Sorted(maps.Keys(m.MonitorLabels)) {
		key := "llmserve:metrics.monitorLabels." + k
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			p.addf("%s: %q is not a Kubernetes label key: %s", key, k, strings.Join(errs, "; "))
			continue
		}
		if slices.Contains(monitorLabelsOwned, k) || strings.HasPrefix(k, "llmserve.dev/") {
			p.addf("%s: llmserve sets this label itself; choose the label your Prometheus selects on, such as release", key)
			continue
		}
		if errs := validation.IsValidLabelValue(m.MonitorLabels[k]); len(errs) > 0 {
			p.addf("%s %q: not a Kubernetes label value: %s", key, m.MonitorLabels[k], strings.Join(errs, "; "))
		}
	}
	if *m.InstallDCGMExporter && !c.needsDCGMExporter() {
		p.addf("llmserve:metrics.installDCGMExporter: NVIDIA's DCGM exporter is installed only for a DCGM metric (%s) on backend prometheus-operator with cluster.mode existing (a GKE cluster llmserve creates runs GKE's managed exporter); remove installDCGMExporter",
			strings.Join(metricsFrom(catalog.GPUExporterMetric), ", "))
	}
	if *m.ScrapeGKEDCGM && !c.needsDCGMExporter() {
		p.addf("llmserve:metrics.scrapeGKEDCGM: GKE's managed DCGM exporter is scraped by a ServiceMonitor only for a DCGM metric (%s) on backend prometheus-operator with cluster.mode existing (on a GKE cluster llmserve creates, Managed Prometheus scrapes it itself); remove scrapeGKEDCGM",
			strings.Join(metricsFrom(catalog.GPUExporterMetric), ", "))
	}
	if *m.ScrapeGKEDCGM && *m.InstallDCGMExporter {
		p.addf("llmserve:metrics.scrapeGKEDCGM and installDCGMExporter are both true: choose one exporter; on GKE scrape GKE's (set installDCGMExporter false: NVIDIA's finds no driver there, NVIDIA/dcgm-exporter#484), elsewhere install NVIDIA's (remove scrapeGKEDCGM)")
	}
}

// checkHTTPURL says what is wrong with an absolute http(s) URL with a host, or "".
func checkHTTPURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "not an http or https URL"
	case u.Host == "" || u.Hostname() == "":
		return "no host"
	case u.User != nil:
		return "credentials in the URL would be stored in plain text in the adapter's arguments"
	case u.RawQuery != "" || u.Fragment != "":
		return "a query or fragment is not part of a Prometheus base URL"
	}
	return ""
}

// metricsFrom names the known metrics of a source.
func metricsFrom(source catalog.MetricSource) []string {
	var out []string
	for _, m := range catalog.KnownMetrics() {
		if m.Source == source {
			out = append(out, m.Name)
		}
	}
	return out
}

// requirePrometheusURL: prometheus-adapter on the Prometheus Operator needs to know which
// Prometheus to query; llmserve installs none (issue 11).
func (c *Config) requirePrometheusURL(p *problems) {
	if c.usesPrometheusURL() && c.Metrics.PrometheusURL == "" {
		p.addf("llmserve:metrics.prometheusURL: required with backend prometheus-operator and adapter prometheus-adapter: the in-cluster address of the Prometheus the adapter queries, such as %s "+
			"(the Service the Prometheus Operator creates for a Prometheus in the namespace monitoring; README \"Metrics pipelines\"); or set installAdapter false where the adapter is installed already", ExamplePrometheusURL)
	}
}
