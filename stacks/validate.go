package stacks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/llmserve/llmserve/catalog"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

var (
	projectNumberRe = regexp.MustCompile(`^[0-9]{6,20}$`)
	// Image references must follow the reference grammar (distribution/reference
	// regexp.go: an optional registry host[:port], lowercase path components separated by
	// '.', '_', '__' or '-'s, a tag of at most 128 word characters, '.' and '-', or a sha256
	// digest) and carry a tag other than latest, or a digest.
	pinnedImageRe = regexp.MustCompile(`^` +
		`(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[\w][\w.-]{0,127}(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$`)
)

// pinned says whether an image reference names a fixed version: a tag other than latest,
// or a digest.
func pinned(image string) bool {
	return pinnedImageRe.MatchString(image) && !strings.HasSuffix(image, ":latest")
}

// gcsfuseForbiddenOptions are rejected by the GCS FUSE CSI driver
// (https://cloud.google.com/kubernetes-engine/docs/how-to/cloud-storage-fuse-csi-driver-perf).
var gcsfuseForbiddenOptions = []string{"app-name", "temp-dir", "foreground", "log-file",
	"log-format", "key-file", "token-url", "reuse-token-from-url"}

// problems collects every validation failure so the user sees them all at once.
type problems []error

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Errorf(format, args...)) }

// Validate checks the whole configuration and returns every problem at once, each naming
// the key and the fix. It makes no cloud call, so `llmserve validate` can run offline.
func (c *Config) Validate() error {
	var p problems
	c.validateWritten(&p)
	c.validateGCP(&p)
	c.validateCluster(&p)
	c.validatePool(&p)
	c.validateStore(&p)
	c.validateServing(&p)
	c.validateRouting(&p)
	c.validateMetrics(&p)
	c.validateProfile(&p)
	c.validateAutoscaling(&p)
	c.validateBuffer(&p)
	c.validateLocations(&p)
	c.validateModeOnly(&p)
	c.validateBounds(&p)
	c.validateServer(&p)
	c.validateTargets(&p)
	c.validateNames(&p)
	c.validatePaths(&p)
	return errors.Join(p...)
}

func (c *Config) validateGCP(p *problems) {
	if c.GCPResources || c.Cluster.Mode != catalog.ModeExisting {
		if c.Project == "" {
			p.addf("gcp:project: required; set it with `pulumi config set gcp:project <project-id>`")
		} else if why := catalog.CheckProjectID(c.Project); why != "" {
			p.addf("gcp:project %q: %s", c.Project, why)
		}
	}
	if c.ProjectNumber != "" && !projectNumberRe.MatchString(c.ProjectNumber) {
		p.addf("llmserve:projectNumber %q: want the numeric project number (gcloud projects describe PROJECT --format='value(projectNumber)')", c.ProjectNumber)
	}
	if !c.GCPResources {
		if c.Cluster.Mode != catalog.ModeExisting {
			p.addf("llmserve:gcpResources false: needs llmserve:cluster.mode existing (mode %q creates a GKE cluster)", c.Cluster.Mode)
		}
	}
}

func (c *Config) validateCluster(p *problems) {
	cl := c.Cluster
	switch cl.Mode {
	case catalog.ModeStandard, catalog.ModeAutopilot:
		if cl.Location == "" {
			p.addf("llmserve:cluster.location: required for mode %s; set gcp:region or llmserve:cluster.location", cl.Mode)
		}
		if cl.Mode == catalog.ModeAutopilot && strings.Count(cl.Location, "-") > 1 {
			p.addf("llmserve:cluster.location %q: Autopilot clusters are regional; use a region such as %q", cl.Location, cl.Location[:strings.LastIndex(cl.Location, "-")])
		}
	case catalog.ModeExisting:
	default:
		p.addf("llmserve:cluster.mode %q: want one of standard, autopilot, existing", cl.Mode)
	}
	if !catalog.IsClusterName(cl.Name) {
		if c.user.Cluster.Name == "" && c.stack != "" {
			p.addf("llmserve:cluster.name %q: derived from the stack name %q, but GKE cluster names are 1-40 lowercase letters, digits and hyphens, starting with a letter; set llmserve:cluster.name", cl.Name, c.stack)
		} else {
			p.addf("llmserve:cluster.name %q: want 1-40 lowercase letters, digits and hyphens, starting with a letter", cl.Name)
		}
	}
	switch cl.ReleaseChannel {
	case "RAPID", "REGULAR", "STABLE", "EXTENDED", "UNSPECIFIED":
	default:
		p.addf("llmserve:cluster.releaseChannel %q: want one of RAPID, REGULAR, STABLE, EXTENDED, UNSPECIFIED", cl.ReleaseChannel)
	}
	// pulumi-gcp container.NodePoolAutoscaling: totalMinNodeCount "Must be >=0 and <=
	// totalMaxNodeCount", totalMaxNodeCount "Must be >= totalMinNodeCount"
	// (https://www.pulumi.com/registry/packages/gcp/api-docs/container/nodepool/); and a system
	// pool of no node runs no system pod.
	sp := cl.SystemPool
	if *sp.MinNodes < 0 {
		p.addf("llmserve:cluster.systemPool.minNodes %d: want 0 or more (a node pool's total minimum is >= 0)", *sp.MinNodes)
	}
	if *sp.MaxNodes < 1 {
		p.addf("llmserve:cluster.systemPool.maxNodes %d: want at least 1; the system pool runs the metrics adapter and other system pods", *sp.MaxNodes)
	}
	if *sp.MinNodes >= 0 && *sp.MaxNodes >= 1 && *sp.MaxNodes < *sp.MinNodes {
		p.addf("llmserve:cluster.systemPool: minNodes %d and maxNodes %d: want 0 <= minNodes <= maxNodes", *sp.MinNodes, *sp.MaxNodes)
	}
}

func (c *Config) validatePool(p *problems) {
	pl := c.Pool
	if *pl.Create && c.Cluster.Mode == catalog.ModeAutopilot {
		p.addf("llmserve:pool.create: Autopilot provisions TPU nodes from the pod's node selector; remove pool.create or use cluster.mode standard")
	}
	if *pl.Create && c.Cluster.Mode == catalog.ModeExisting && !c.GCPResources {
		p.addf("llmserve:pool.create: llmserve:gcpResources is false, so no node pool can be created; remove pool.create")
	}
	// Each bound is named on its own where it alone is wrong (pulumi-gcp
	// NodePoolAutoscaling: totalMinNodeCount "Must be >=0", totalMaxNodeCount "Must be >=
	// totalMinNodeCount"); a pool of no node serves nothing.
	switch {
	case *pl.MinNodes < 0:
		p.addf("llmserve:pool.minNodes %d: want 0 or more", *pl.MinNodes)
	case *pl.MaxNodes < 1:
		p.addf("llmserve:pool.maxNodes %d: want at least 1; a pool of no node serves nothing", *pl.MaxNodes)
	case *pl.MaxNodes < *pl.MinNodes:
		p.addf("llmserve:pool: minNodes %d and maxNodes %d: want 0 <= minNodes <= maxNodes and maxNodes >= 1", *pl.MinNodes, *pl.MaxNodes)
	}
	if pl.LocationPolicy != "ANY" && pl.LocationPolicy != "BALANCED" {
		p.addf("llmserve:pool.locationPolicy %q: want ANY or BALANCED", pl.LocationPolicy)
	}
	if pl.Spot && pl.Reservation != "" {
		p.addf("llmserve:pool: spot and reservation %q exclude each other; choose one", pl.Reservation)
	}
	if pl.DriverVersion != "" {
		if catalog.IsTPU(c.Profile.Accelerator.Type) {
			p.addf("llmserve:pool.driverVersion: NVIDIA drivers are for GPU pools; %s needs none", c.Profile.Accelerator.Type)
		} else if pl.DriverVersion != "LATEST" && pl.DriverVersion != "DEFAULT" {
			p.addf("llmserve:pool.driverVersion %q: want LATEST or DEFAULT (GKE-managed driver install)", pl.DriverVersion)
		}
	}
	if pl.DiskSizeGB != nil && *pl.DiskSizeGB < catalog.MinBootDiskGB {
		p.addf("llmserve:pool.diskSizeGb %d: want at least %d (GKE's smallest boot disk); remove it for GKE's default", *pl.DiskSizeGB, catalog.MinBootDiskGB)
	}
	c.validateImageCacheDisk(p)
}

// validateImageCacheDisk checks pool.imageCacheDisk's form and project. An image in another
// project would need IAM that llmserve does not grant and whose rule GKE's page on secondary
// boot disks does not state in a form we could check, so only the stack's own project is
// taken: copying the image over is one command.
func (c *Config) validateImageCacheDisk(p *problems) {
	d := c.Pool.ImageCacheDisk
	if d == "" {
		return
	}
	project, name, why := catalog.ParseDiskImage(d)
	if why != "" {
		p.addf("llmserve:pool.imageCacheDisk %q: %s", d, why)
		return
	}
	if project != "" && c.Project != "" && project != c.Project {
		p.addf("llmserve:pool.imageCacheDisk %q: the image is in project %s, not this stack's gcp:project %s, and llmserve grants no access to another project's images; copy it "+
			"(gcloud compute images create %s --project %s --source-image %s --source-image-project %s) and set global/images/%s",
			d, project, c.Project, name, c.Project, name, project, name)
	}
}

func (c *Config) validateStore(p *problems) {
	b := c.ModelStore.Bucket
	if b == "" {
		if !c.GCPResources {
			p.addf("llmserve:modelStore.bucket: required when llmserve:gcpResources is false; name the bucket that already exists")
		}
	} else if why := catalog.CheckBucketName(b); why != "" {
		if c.user.ModelStore.Bucket == "" {
			p.addf("llmserve:modelStore.bucket %q: derived as <gcp:project>-llmserve-<stack>, it %s (GCS naming rules); set llmserve:modelStore.bucket", b, why)
		} else {
			p.addf("llmserve:modelStore.bucket %q: %s (GCS naming rules); set llmserve:modelStore.bucket", b, why)
		}
	} else if catalog.BucketNeedsDomainVerification(b) && c.GCPResources && !c.ModelStore.DomainVerified {
		// Only a bucket llmserve creates: an existing one (gcpResources false) was verified
		// when it was made.
		p.addf("llmserve:modelStore.bucket %q: a name with dots is a domain name, and GCS creates it only for a verified owner of the domain (https://cloud.google.com/storage/docs/domain-name-verification), so the deploy would fail after the cluster exists; "+
			"verify the domain and set llmserve:modelStore.domainVerified: true, or use a name without dots such as %q", b, strings.ReplaceAll(b, ".", "-"))
	}
	if c.ModelStore.DomainVerified && !(c.GCPResources && catalog.BucketNeedsDomainVerification(b)) {
		p.addf("llmserve:modelStore.domainVerified: only for a bucket llmserve creates with dots in its name (%q is not one); remove it", b)
	}
	if loc := c.ModelStore.Location; c.GCPResources && loc != "" {
		if why := catalog.CheckBucketLocation(loc, c.clusterRegion()); why != "" {
			p.addf("llmserve:modelStore.location %q: %s", loc, why)
		}
	}
	switch c.ModelStore.StorageClass {
	case "STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE":
	default:
		p.addf("llmserve:modelStore.storageClass %q: want STANDARD (weights are read on every start), NEARLINE, COLDLINE or ARCHIVE", c.ModelStore.StorageClass)
	}
	if c.GCPResources && c.ModelStore.Location == "" {
		p.addf("llmserve:modelStore.location: required; set gcp:region or llmserve:modelStore.location")
	}
}

func (c *Config) validateServing(p *problems) {
	s := c.Serving
	if !isDNSLabel(s.Namespace) {
		p.addf("llmserve:serving.namespace %q: not a DNS-1123 label (lowercase letters, digits and '-', at most 63)", s.Namespace)
	}
	if !isDNSLabel(s.ServiceAccount) {
		p.addf("llmserve:serving.serviceAccount %q: not a DNS-1123 label (lowercase letters, digits and '-', at most 63)", s.ServiceAccount)
	}
	switch s.Exposure {
	case "cluster", "internal":
	case "public":
		if !s.AllowPublic {
			p.addf("llmserve:serving.exposure public: puts an unauthenticated LLM on a public IP; set serving.allowPublic: true to mean it, or use internal")
		}
	default:
		p.addf("llmserve:serving.exposure %q: want cluster (ClusterIP), internal (internal load balancer) or public", s.Exposure)
	}
	if c.Profile.Engine == catalog.EngineVLLM && !c.HasHFToken && c.RenderDir == "" {
		p.addf("llmserve:hfToken: required to download %s from Hugging Face; set it with `pulumi config set --secret llmserve:hfToken <token>` ($HF_TOKEN for the llmserve command, Settings.HFToken when embedding)", c.Profile.Model)
	}
}

func (c *Config) validateMetrics(p *problems) {
	m := c.Metrics
	switch m.Backend {
	case catalog.BackendManaged, catalog.BackendOperator:
	default:
		p.addf("llmserve:metrics.backend %q: want managed-prometheus or prometheus-operator", m.Backend)
	}
	switch m.Adapter {
	case catalog.AdapterStackdriver, catalog.AdapterPrometheus, catalog.AdapterNone:
	default:
		p.addf("llmserve:metrics.adapter %q: want stackdriver, prometheus-adapter or none", m.Adapter)
	}
	if m.Adapter == catalog.AdapterStackdriver && m.Backend == catalog.BackendOperator {
		p.addf("llmserve:metrics.adapter stackdriver: it reads Cloud Monitoring, not the Prometheus Operator's Prometheus; use prometheus-adapter with backend prometheus-operator")
	}
	if *m.InstallAdapter && m.Adapter == catalog.AdapterNone {
		p.addf("llmserve:metrics.installAdapter: adapter is none; remove installAdapter or choose an adapter")
	}
	if *m.InstallAdapter && m.Adapter == catalog.AdapterStackdriver && !pinned(m.AdapterImage) {
		p.addf("llmserve:metrics.adapterImage %q: pin a version tag or digest", m.AdapterImage)
	}
	if m.Adapter == catalog.AdapterPrometheus && m.Backend == catalog.BackendManaged && !pinned(m.FrontendImage) {
		p.addf("llmserve:metrics.frontendImage %q: pin a version tag or digest", m.FrontendImage)
	}
	c.validateOperatorMetrics(p)
	if d, ok := promDuration(m.SystemScrapeInterval); !ok || d < 15*time.Second {
		p.addf("llmserve:metrics.systemScrapeInterval %q: TPU system metrics are scraped every 15s at most; use 15s or more", m.SystemScrapeInterval)
	}
	if d, ok := promDuration(m.ScrapeInterval); !ok {
		p.addf("llmserve:metrics.scrapeInterval %q: not a Prometheus duration such as 5s or 1m", m.ScrapeInterval)
	} else if d < 5*time.Second {
		p.addf("llmserve:metrics.scrapeInterval %q: Managed Prometheus scrapes server metrics every 5s at most; use 5s or more", m.ScrapeInterval)
	}
}

// promDuration parses the Prometheus duration forms PodMonitoring accepts (the grammar of
// prometheus/common model.ParseDuration, which the CRD's pattern copies).
func promDuration(s string) (time.Duration, bool) {
	d, err := model.ParseDuration(s)
	return time.Duration(d), err == nil
}

func checkQuantity(p *problems, key, v string, allowZero bool) {
	if v == "" {
		return
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		p.addf("%s %q: not a Kubernetes quantity such as 500m, 4Gi or 0", key, v)
		return
	}
	if q.Sign() < 0 || (!allowZero && q.IsZero()) {
		p.addf("%s %q: must be greater than 0", key, v)
	}
}

// isDNSLabel says whether s is a DNS-1123 label, as Kubernetes checks namespace and service
// account names (k8s.io/apimachinery/pkg/util/validation).
func isDNSLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }
