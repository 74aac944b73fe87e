package catalog

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// GCP identifiers and where accelerators exist. Each rule names its source; the tables were
// last checked on 2026-11-23 (research notes facts-12).

var (
	// RegionRe is a GCP region: us-central1, europe-west4, northamerica-northeast1
	// (https://cloud.google.com/compute/docs/regions-zones).
	RegionRe = regexp.MustCompile(`^[a-z]+(-[a-z]+)+[0-9]+$`)
	// ZoneRe is a zone: <region>-<letter> (us-west1-a), or an AI zone, which breaks the
	// one-letter pattern: us-central1-ai1, us-central1-ai1a, us-south1-ai1b ("AI zones are
	// specialized Google Cloud zones for AI/ML", https://docs.cloud.google.com/tpu/docs/regions-zones).
	ZoneRe = regexp.MustCompile(`^([a-z]+(-[a-z]+)+[0-9]+)-([a-z]|ai[0-9]+[a-z]?)$`)
)

// IsRegion and IsZone check the form of a location name.
func IsRegion(s string) bool { return RegionRe.MatchString(s) }

// IsZone says whether s has the form of a zone (AI zones included).
func IsZone(s string) bool { return ZoneRe.MatchString(s) }

// RegionOf returns the region of a zone, or "" if s is not a zone.
func RegionOf(zone string) string {
	m := ZoneRe.FindStringSubmatch(zone)
	if m == nil {
		return ""
	}
	return m[1]
}

// TPUv6eZones are the zones where Cloud TPU v6e (Trillium) is offered. Sources:
// https://cloud.google.com/tpu/docs/regions-zones and https://docs.cloud.google.com/tpu/docs/types-zones
// (us-central1-b, us-east1-d, us-east5-a, us-east5-b, europe-west4-a; AI zones
// us-central1-ai1 and us-south1-ai1b on the newer page) and the German version of the page,
// which also lists single-tenant-only zones (us-east5-c, us-east4-a, us-east4-b, us-west1-c).
// Asia-Pacific and South-America v6e zones exist but could not be read from any stored copy
// of the page: they are not listed, so a zone missing here may be new rather than wrong.
var TPUv6eZones = []string{
	"europe-west4-a",
	"us-central1-ai1", "us-central1-b",
	"us-east1-d",
	"us-east4-a", "us-east4-b",
	"us-east5-a", "us-east5-b", "us-east5-c",
	"us-south1-ai1b",
	"us-west1-c",
}

// TPUv6eZonesSource is cited in messages.
const TPUv6eZonesSource = "https://cloud.google.com/tpu/docs/regions-zones"

// TPUv6eZonesIn returns the known v6e zones of a region.
func TPUv6eZonesIn(region string) []string {
	var out []string
	for _, z := range TPUv6eZones {
		if RegionOf(z) == region {
			out = append(out, z)
		}
	}
	return out
}

// TPUv6eTableCovers says whether TPUv6eZones is complete for a region's continent: the
// stored copies of the source list every v6e zone of North America and Europe, but none of
// Asia-Pacific and South America, where a zone missing from the table may simply be unread.
func TPUv6eTableCovers(region string) bool {
	for _, prefix := range []string{"us-", "northamerica-", "europe-"} {
		if strings.HasPrefix(region, prefix) {
			return true
		}
	}
	return false
}

// HasTPUv6e says whether a zone is known to offer TPU v6e.
func HasTPUv6e(zone string) bool { return slices.Contains(TPUv6eZones, zone) }

// Minimum GKE versions. TPU v6e: "TPU Trillium (v6e) is supported in GKE versions
// 1.31.2-gke.1115000 or later" (GKE TPU docs, seed 003;
// https://docs.ray.io/en/latest/cluster/kubernetes/user-guides/gcp-gke-tpu-cluster.html);
// node pool auto-creation (which Autopilot provisions with) for Trillium needs 1.32.0
// (https://docs.cloud.google.com/tpu/docs/kubernetes-engine-setup).
const (
	MinGKEVersionTPUv6e          = "1.31.2-gke.1115000"
	MinGKEVersionTPUv6eAutopilot = "1.32.0"
)

// gkeVersionRe is what GKE takes as a version: "latest", "-", "1.X", "1.X.Y" or
// "1.X.Y-gke.N" (google.cloud.container_v1 ClusterUpdate.desired_node_version:
// https://cloud.google.com/python/docs/reference/container/1.0.2/google.cloud.container_v1.types.ClusterUpdate).
var gkeVersionRe = regexp.MustCompile(`^(latest|-|1\.([0-9]+)(\.([0-9]+)(-gke\.([0-9]+))?)?)$`)

// GKEVersion is a parsed GKE version or alias; missing parts are -1.
type GKEVersion struct {
	Alias               string // latest or - (no number)
	Minor, Patch, Build int
}

// ParseGKEVersion parses a GKE version or alias.
func ParseGKEVersion(s string) (GKEVersion, bool) {
	m := gkeVersionRe.FindStringSubmatch(s)
	if m == nil {
		return GKEVersion{}, false
	}
	if m[1] == "latest" || m[1] == "-" {
		return GKEVersion{Alias: m[1], Minor: -1, Patch: -1, Build: -1}, true
	}
	num := func(x string) int {
		if x == "" {
			return -1
		}
		n, err := strconv.Atoi(x)
		if err != nil {
			return 1 << 30 // absurdly large: still a number, compares as new
		}
		return n
	}
	return GKEVersion{Minor: num(m[2]), Patch: num(m[4]), Build: num(m[6])}, true
}

// Below says whether every version this one can resolve to is older than min (a full
// version). An alias (latest, 1.X, 1.X.Y) resolves to the newest matching release, so it is
// below min only when even its newest release must be: 1.30 is below 1.31.2-gke.1115000,
// 1.31 is not (its newest patch is later).
func (v GKEVersion) Below(min GKEVersion) bool {
	if v.Alias != "" {
		return false
	}
	if v.Minor != min.Minor {
		return v.Minor < min.Minor
	}
	if v.Patch < 0 || min.Patch < 0 {
		return false
	}
	if v.Patch != min.Patch {
		return v.Patch < min.Patch
	}
	if v.Build < 0 || min.Build < 0 {
		return false
	}
	return v.Build < min.Build
}

// GCS bucket locations: a region, a multi-region (US, EU, ASIA) or a predefined dual-region
// such as NAM4 or EUR4 (https://cloud.google.com/storage/docs/locations). Names are
// case-insensitive.
var (
	multiRegions     = map[string]string{"US": "us-", "EU": "europe-", "ASIA": "asia-"}
	dualRegionCodeRe = regexp.MustCompile(`^(NAM|EUR|ASIA)[0-9]{1,2}$`)
)

// CheckBucketLocation returns a problem with a bucket location for a cluster in region, or "".
func CheckBucketLocation(loc, region string) string {
	up := strings.ToUpper(loc)
	if prefix, ok := multiRegions[up]; ok {
		if region != "" && !strings.HasPrefix(region, prefix) {
			return fmt.Sprintf("multi-region %s does not contain the cluster's region %s: every replica would read its weights across continents (egress and minutes of start-up); use %s", up, region, strings.ToUpper(region))
		}
		return ""
	}
	if dualRegionCodeRe.MatchString(up) {
		return ""
	}
	if !IsRegion(strings.ToLower(loc)) {
		if IsZone(strings.ToLower(loc)) {
			return fmt.Sprintf("buckets live in regions, not zones; use %s", strings.ToUpper(RegionOf(strings.ToLower(loc))))
		}
		return "want a region such as US-CENTRAL1, a multi-region (US, EU, ASIA) or a dual-region such as NAM4"
	}
	if region != "" && strings.ToLower(loc) != region {
		return fmt.Sprintf("the cluster runs in %s: every replica would read its weights from another region (egress charges, slower starts); GKE's guides create the bucket in the cluster's region: use %s", region, strings.ToUpper(region))
	}
	return ""
}

var (
	bucketCharsRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*[a-z0-9]$`)
	// googleLikeRe: "Bucket names cannot contain "google" or close misspellings, such as
	// "g00gle"" — Google gives no list, so this takes o/0 and l/1 swaps.
	googleLikeRe = regexp.MustCompile(`g[o0][o0]g[l1]e`)
)

// CheckBucketName returns what is wrong with a GCS bucket name, or "". The rules are
// https://cloud.google.com/storage/docs/buckets#naming: lowercase letters, digits, '-', '_'
// and '.'; start and end with a letter or digit; 3-63 characters, or up to 222 with dots
// and each dot-separated part at most 63; not an IP address in dotted-decimal; no "goog"
// prefix; no "google" or close misspellings. ".." "-." and ".-" are not valid in DNS names
// (https://developers.google.com/storage/docs/bucketnaming), which dotted names must be.
func CheckBucketName(b string) string {
	switch {
	case len(b) < 3:
		return "is shorter than 3 characters"
	case !bucketCharsRe.MatchString(b):
		return "may hold only lowercase letters, digits, '-', '_' and '.', and must start and end with a letter or digit"
	case strings.HasPrefix(b, "goog"):
		return "cannot begin with \"goog\""
	case googleLikeRe.MatchString(b):
		return "cannot contain \"google\" or a close misspelling of it"
	}
	if !strings.Contains(b, ".") {
		if len(b) > 63 {
			return fmt.Sprintf("is %d characters; at most 63 without dots", len(b))
		}
		return ""
	}
	if _, err := netip.ParseAddr(b); err == nil {
		return "cannot be an IP address in dotted-decimal notation"
	}
	if len(b) > 222 {
		return fmt.Sprintf("is %d characters; dotted names hold at most 222", len(b))
	}
	for _, part := range strings.Split(b, ".") {
		if len(part) > 63 {
			return fmt.Sprintf("has a dot-separated part of %d characters; at most 63", len(part))
		}
	}
	if strings.Contains(b, "..") || strings.Contains(b, ".-") || strings.Contains(b, "-.") {
		return "has \"..\", \".-\" or \"-.\", which are not valid in DNS names"
	}
	return ""
}

// BucketNeedsDomainVerification says whether creating bucket b needs its owner to have
// verified a domain: "Bucket names containing dots require verification"
// (https://cloud.google.com/storage/docs/buckets#naming): a dotted name is a domain name, and
// GCS creates it only for a verified owner of that domain
// (https://cloud.google.com/storage/docs/domain-name-verification), so the create fails late,
// after the cluster exists.
func BucketNeedsDomainVerification(b string) bool { return strings.Contains(b, ".") }

// clusterNameRe: "The name may contain only lowercase alphanumerics and '-', must start with a
// letter and end with an alphanumeric, and must be no longer than 40 characters" (gcloud
// container clusters create NAME, https://cloud.google.com/sdk/gcloud/reference/container/clusters/create;
// the Terraform provider's validator for google_container_cluster.name checks the same four
// rules, hashicorp/terraform-provider-google
// google/services/container/resource_container_cluster.go @887701b5).
var clusterNameRe = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$`)

// IsClusterName says whether s is a valid GKE cluster name.
func IsClusterName(s string) bool { return clusterNameRe.MatchString(s) }

// labelValueMax: GCP label values "can be empty, and have a maximum length of 63 characters";
// keys and values "can contain only lowercase letters, numeric characters, underscores, and
// dashes" (https://cloud.google.com/resource-manager/docs/labels-overview#requirements, which
// bucket labels follow: https://cloud.google.com/storage/docs/tags-and-labels).
const labelValueMax = 63

var labelValueRe = regexp.MustCompile(`^[a-z0-9_-]*$`)

// LabelValue makes s a valid label value: lowercase letters, digits, '_' and '-' are kept,
// every other run of characters becomes '-', and the result is cut to 63 characters. A label
// only tags the resource, so shortening a long stack name is harmless where refusing the
// stack would not be.
func LabelValue(s string) string {
	s = labelValueBad.ReplaceAllString(strings.ToLower(s), "-")
	if len(s) > labelValueMax {
		s = s[:labelValueMax]
	}
	return s
}

var labelValueBad = regexp.MustCompile(`[^a-z0-9_-]+`)

// IsLabelValue says whether s is a valid GCP label value.
func IsLabelValue(s string) bool { return len(s) <= labelValueMax && labelValueRe.MatchString(s) }

// projectIDRe and the restricted strings: "Must be 6 to 30 characters in length. Can only
// contain lowercase letters, numbers, and hyphens. Must start with a letter. Cannot end with
// a hyphen. ... Cannot contain restricted strings, such as google, null, undefined, and ssl."
// (https://cloud.google.com/resource-manager/docs/creating-managing-projects).
var projectIDRe = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// CheckProjectID returns what is wrong with a project ID, or "".
func CheckProjectID(p string) string {
	if !projectIDRe.MatchString(p) {
		return "not a project ID (6-30 lowercase letters, digits and hyphens, starting with a letter)"
	}
	for _, bad := range []string{"google", "null", "undefined", "ssl"} {
		if strings.Contains(p, bad) {
			return fmt.Sprintf("not a project ID: project IDs cannot contain %q", bad)
		}
	}
	return ""
}

// GKE limits (https://cloud.google.com/kubernetes-engine/quotas): "Nodes per cluster 15,000"
// and "Nodes per node pool zone 1,000". Every llmserve replica takes a node, so replicas are
// bounded by the cluster's nodes.
const (
	MaxNodesPerCluster      = 15000
	MaxNodesPerNodePoolZone = 1000
)

// Boot disks: GKE's minimum node boot disk is 10 GB; a persistent disk holds at most
// 64 TB (65,536 GB) (https://cloud.google.com/compute/docs/disks).
const (
	MinBootDiskGB = 10
	MaxBootDiskGB = 65536
)

// Secondary boot disks ("Use secondary boot disks to preload data or container images",
// https://cloud.google.com/kubernetes-engine/docs/how-to/data-container-image-preloading):
// a node pool attaches to every node it creates a disk made from a Compute Engine image;
// in mode CONTAINER_IMAGE_CACHE, GKE's containerd reads the image layers from that disk
// instead of pulling them (modes: MODE_UNSPECIFIED, CONTAINER_IMAGE_CACHE; GKE API
// SecondaryBootDisk.Mode). Needs COS_CONTAINERD nodes (GKE 1.30.1-gke.1329000 or later, older
// than every release channel's default) and image streaming on the pool (the Terraform
// provider, google_container_node_pool node_config.secondary_boot_disks: "gcfs_config must
// be enabled=true for this feature to work"). GKE cannot change the disk image of
// existing nodes ("you must create a new node pool"): the provider's field is ForceNew.
const (
	SecondaryBootDiskImageCache = "CONTAINER_IMAGE_CACHE"
	ImageTypeCOSContainerd      = "COS_CONTAINERD"
)

// diskImageNameRe: a Compute Engine image name "must be 1-63 characters long and match the
// regular expression [a-z]([-a-z0-9]*[a-z0-9])?" (images resource, field name:
// https://cloud.google.com/compute/docs/reference/rest/v1/images).
var diskImageNameRe = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ParseDiskImage reads a secondary boot disk's image in the two forms the provider takes:
// global/images/NAME (the image in the cluster's project; the form the provider documents
// after gke-disk-image-builder) or projects/PROJECT/global/images/NAME. project is "" for
// the first form; problem says what is wrong, or is "".
func ParseDiskImage(s string) (project, name, problem string) {
	const want = "want global/images/NAME or projects/PROJECT/global/images/NAME (the Compute Engine image gke-disk-image-builder made)"
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 3 && parts[0] == "global" && parts[1] == "images":
		name = parts[2]
	case len(parts) == 5 && parts[0] == "projects" && parts[2] == "global" && parts[3] == "images":
		project, name = parts[1], parts[4]
		if why := CheckProjectID(project); why != "" {
			return project, name, fmt.Sprintf("project %q: %s", project, why)
		}
	default:
		return "", "", want
	}
	if !diskImageNameRe.MatchString(name) {
		return project, name, fmt.Sprintf("image name %q: a Compute Engine image name is 1-63 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen", name)
	}
	return project, name, ""
}
