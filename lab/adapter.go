package lab

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/metrics/pkg/apis/custom_metrics"
	"k8s.io/metrics/pkg/apis/external_metrics"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// AdapterNamespace holds the Service the lab's APIServices point at.
const AdapterNamespace = "llmserve-lab"

// Values is where the adapter reads metrics: the value of a per-pod metric as the
// monitoring backend has ingested it (ok false when it has none for that pod yet), and of
// an external metric.
type Values interface {
	PodMetric(name, namespace, pod string) (float64, bool)
	ExternalMetric(name string) (float64, bool)
}

// Adapter is a custom.metrics.k8s.io + external.metrics.k8s.io server, in place of the
// Custom Metrics Stackdriver Adapter. It answers only for the metric names it was given
// (those the HPA asks for, such as prometheus.googleapis.com|vllm:num_requests_waiting|gauge)
// and listens on 127.0.0.1 only; the apiserver reaches it through an APIService and a
// Service of type ExternalName that names 127.0.0.1.
type Adapter struct {
	Port      int // on 127.0.0.1
	podNames  []string
	extNames  []string
	values    Values
	kube      kubernetes.Interface
	answering atomic.Bool
	done      chan error
}

// StartAdapter serves the named metrics until ctx ends. kubeconfig is a file with
// credentials that can read pods, extension-apiserver-authentication and run
// SubjectAccessReviews (the adapter delegates authentication and authorization to the
// apiserver, as the Stackdriver adapter does); certDir receives its self-signed certificate.
func StartAdapter(ctx context.Context, kubeconfig, certDir string, podMetrics, externalMetrics []string, v Values, kube kubernetes.Interface) (*Adapter, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lab adapter: %w", err)
	}
	a := &Adapter{Port: l.Addr().(*net.TCPAddr).Port, podNames: podMetrics, extNames: externalMetrics, values: v,
		kube: kube, done: make(chan error, 1)}
	a.answering.Store(true)
	b := &basecmd.AdapterBase{Name: "llmserve-lab-adapter", RemoteKubeConfigFile: kubeconfig,
		FlagSet: pflag.NewFlagSet("llmserve-lab-adapter", pflag.ContinueOnError)}
	b.InstallFlags()
	b.SecureServing.Listener, b.SecureServing.BindAddress, b.SecureServing.BindPort = l, net.IPv4(127, 0, 0, 1), a.Port
	b.SecureServing.ServerCert.CertDirectory = certDir
	b.Authentication.RemoteKubeConfigFile, b.Authorization.RemoteKubeConfigFile = kubeconfig, kubeconfig
	// One adapter per process may register Prometheus metrics; the lab needs none.
	b.EnableMetrics = false
	b.WithCustomMetrics(a)
	b.WithExternalMetrics(a)
	if _, err := b.Server(); err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("lab adapter: %w", err)
	}
	go func() { a.done <- b.Run(ctx) }()
	return a, nil
}

// SetAnswering switches the adapter between serving values and failing every metric
// request with 503, as a crashed or unreachable adapter looks to the HPA.
func (a *Adapter) SetAnswering(on bool) { a.answering.Store(on) }

// Done returns Run's error once the adapter has stopped.
func (a *Adapter) Done() <-chan error { return a.done }

// Register points custom.metrics.k8s.io (v1beta1, v1beta2) and external.metrics.k8s.io
// (v1beta1) at the adapter, replacing earlier registrations, and waits until the
// aggregator reports them Available.
func (a *Adapter) Register(ctx context.Context, dyn dynamic.Interface) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: AdapterNamespace}}
	if _, err := a.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("lab adapter: namespace: %w", err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-adapter", Namespace: AdapterNamespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "127.0.0.1"},
	}
	_ = a.kube.CoreV1().Services(AdapterNamespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
	if _, err := a.kube.CoreV1().Services(AdapterNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("lab adapter: service: %w", err)
	}
	gvr := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	var names []string
	for _, gv := range []struct{ group, version string }{
		{"custom.metrics.k8s.io", "v1beta1"}, {"custom.metrics.k8s.io", "v1beta2"}, {"external.metrics.k8s.io", "v1beta1"},
	} {
		name := gv.version + "." + gv.group
		names = append(names, name)
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
			"metadata": map[string]any{"name": name},
			"spec": map[string]any{
				"group": gv.group, "version": gv.version, "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
				// The adapter's certificate is self-signed, as in the Stackdriver adapter's manifest.
				"insecureSkipTLSVerify": true,
				"service":               map[string]any{"namespace": AdapterNamespace, "name": svc.Name, "port": int64(a.Port)},
			},
		}}
		_ = dyn.Resource(gvr).Delete(ctx, name, metav1.DeleteOptions{})
		if _, err := dyn.Resource(gvr).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("lab adapter: apiservice %s: %w", name, err)
		}
	}
	for range 60 { // up to 30s
		ok := true
		for _, n := range names {
			u, err := dyn.Resource(gvr).Get(ctx, n, metav1.GetOptions{})
			if err != nil || !available(u) {
				ok = false
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-a.done:
			return fmt.Errorf("lab adapter stopped: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("lab adapter: APIServices %v not Available after 30s", names)
}

func available(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Available" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// GetMetricByName returns one pod's value.
func (a *Adapter) GetMetricByName(ctx context.Context, name types.NamespacedName, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValue, error) {
	if err := a.check(info); err != nil {
		return nil, err
	}
	v, ok := a.values.PodMetric(info.Metric, name.Namespace, name.Name)
	if !ok {
		return nil, provider.NewMetricNotFoundForError(info.GroupResource, info.Metric, name.Name)
	}
	mv := podValue(info.Metric, name.Namespace, name.Name, v)
	return &mv, nil
}

// GetMetricBySelector returns the value of every selected pod that has one: the HPA reads
// Pods metrics this way and averages over the pods it gets.
func (a *Adapter) GetMetricBySelector(ctx context.Context, namespace string, sel labels.Selector, info provider.CustomMetricInfo, _ labels.Selector) (*custom_metrics.MetricValueList, error) {
	if err := a.check(info); err != nil {
		return nil, err
	}
	pods, err := a.kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	out := &custom_metrics.MetricValueList{}
	for _, p := range pods.Items {
		if v, ok := a.values.PodMetric(info.Metric, namespace, p.Name); ok {
			out.Items = append(out.Items, podValue(info.Metric, namespace, p.Name, v))
		}
	}
	return out, nil
}

// ListAllMetrics lists the per-pod metrics served.
func (a *Adapter) ListAllMetrics() []provider.CustomMetricInfo {
	var out []provider.CustomMetricInfo
	for _, n := range a.podNames {
		out = append(out, provider.CustomMetricInfo{GroupResource: schema.GroupResource{Resource: "pods"}, Namespaced: true, Metric: n})
	}
	return out
}

// GetExternalMetric returns an external metric's value.
func (a *Adapter) GetExternalMetric(ctx context.Context, namespace string, _ labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	if !a.answering.Load() {
		return nil, apierrors.NewServiceUnavailable("lab adapter: not answering")
	}
	gr := schema.GroupResource{Group: "external.metrics.k8s.io"}
	if !slices.Contains(a.extNames, info.Metric) {
		return nil, provider.NewMetricNotFoundError(gr, info.Metric)
	}
	v, ok := a.values.ExternalMetric(info.Metric)
	if !ok {
		return nil, provider.NewMetricNotFoundError(gr, info.Metric)
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName: info.Metric, Timestamp: metav1.Now(), Value: quantity(v),
	}}}, nil
}

// ListAllExternalMetrics lists the external metrics served.
func (a *Adapter) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	var out []provider.ExternalMetricInfo
	for _, n := range a.extNames {
		out = append(out, provider.ExternalMetricInfo{Metric: n})
	}
	return out
}

func (a *Adapter) check(info provider.CustomMetricInfo) error {
	if !a.answering.Load() {
		return apierrors.NewServiceUnavailable("lab adapter: not answering")
	}
	if info.GroupResource.Resource != "pods" || !slices.Contains(a.podNames, info.Metric) {
		return provider.NewMetricNotFoundError(info.GroupResource, info.Metric)
	}
	return nil
}

func podValue(metric, namespace, pod string, v float64) custom_metrics.MetricValue {
	return custom_metrics.MetricValue{
		DescribedObject: custom_metrics.ObjectReference{Kind: "Pod", APIVersion: "/v1", Namespace: namespace, Name: pod},
		Metric:          custom_metrics.MetricIdentifier{Name: metric},
		Timestamp:       metav1.Now(),
		Value:           quantity(v),
	}
}

// quantity keeps three decimals: fractions such as a 0.35 KV-cache usage must survive.
func quantity(v float64) resource.Quantity {
	return *resource.NewMilliQuantity(int64(v*1000+0.5), resource.DecimalSI)
}

var _ provider.MetricsProvider = (*Adapter)(nil)
