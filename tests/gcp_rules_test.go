package tests

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rule table for the GCP half: what llmserve passes to pulumi-gcp, checked against the
// provider's documented constraints (each row cites its source), through the real program
// under mocks.

// TestZonalClusterNodeLocationsOmitItsZone: pulumi-gcp container.Cluster.nodeLocations: "If
// this is specified for a zonal cluster, omit the cluster's zone"
// (https://www.pulumi.com/registry/packages/gcp/api-docs/container/cluster/#nodelocations_go);
// the Terraform provider refuses it on create ("when using a multi-zonal cluster,
// node_locations should not contain the original 'zone'", hashicorp/terraform-provider-google
// google/services/container/resource_container_cluster.go @887701b5). A node pool's
// nodeLocations have no such rule ("If unspecified, the cluster-level nodeLocations will be
// used"): it gets every zone its nodes are in.
func TestZonalClusterNodeLocationsOmitItsZone(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cluster     m
		wantCluster any // nil: nodeLocations not passed
		wantPool    []any
	}{
		{"zonal, only its own zone", m{"name": "llm-dev", "location": "us-central1-b", "zones": []string{"us-central1-b"}}, nil, []any{"us-central1-b"}},
		{"zonal, multi-zonal", m{"name": "llm-dev", "location": "us-east5-a", "zones": []string{"us-east5-b", "us-east5-a"}}, []any{"us-east5-b"}, []any{"us-east5-b", "us-east5-a"}},
		{"regional keeps every zone", m{"name": "llm-dev", "location": "us-east5", "zones": []string{"us-east5-a", "us-east5-b"}}, []any{"us-east5-a", "us-east5-b"}, []any{"us-east5-a", "us-east5-b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := devConfig(t).with("llmserve:cluster", tc.cluster)
			if r := tc.cluster["location"].(string); r[:7] == "us-east" {
				cfg = cfg.with("gcp:region", "us-east5").with("llmserve:modelStore", m{"location": "US-EAST5"})
			}
			rec := mustRun(t, "dev", cfg)
			c := in(rec.one(t, tCluster))
			assert.Equal(t, tc.wantCluster, c["nodeLocations"], "cluster nodeLocations")
			if loc, _ := c["location"].(string); loc == tc.cluster["location"] {
				if zs, ok := c["nodeLocations"].([]any); ok {
					assert.NotContains(t, zs, loc, "a zonal cluster's nodeLocations must omit its own zone")
				}
			}
			assert.Equal(t, tc.wantPool, in(rec.named(t, tNodePool, "tpu-pool"))["nodeLocations"], "pool nodeLocations")
		})
	}
}

// TestZonalClusterWithoutItsZoneIsRefused: GKE always runs a zonal cluster's nodes in its own
// zone (the provider adds it back), so zones that leave it out cannot be what was meant.
func TestZonalClusterWithoutItsZoneIsRefused(t *testing.T) {
	_, err := run(t, "dev", devConfig(t).with("llmserve:cluster", m{"name": "llm-dev", "location": "us-central1-c", "zones": []string{"us-central1-b"}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a zonal cluster's node zones must include its own zone us-central1-c")
}

// TestDottedBucketNeedsVerifiedDomain: "Bucket names containing dots require verification"
// (https://cloud.google.com/storage/docs/buckets#naming): GCS creates weights.example.com
// only for a verified owner of example.com, so llmserve refuses it before anything is created
// unless modelStore.domainVerified says so.
func TestDottedBucketNeedsVerifiedDomain(t *testing.T) {
	_, err := run(t, "dev", devConfig(t).with("llmserve:modelStore", m{"bucket": "weights.example.com"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `llmserve:modelStore.bucket "weights.example.com": a name with dots is a domain name, and GCS creates it only for a verified owner of the domain`)
	assert.Contains(t, err.Error(), `set llmserve:modelStore.domainVerified: true, or use a name without dots such as "weights-example-com"`)

	rec := mustRun(t, "dev", devConfig(t).with("llmserve:modelStore", m{"bucket": "weights.example.com", "domainVerified": true}))
	assert.Equal(t, "weights.example.com", in(rec.one(t, tBucket))["name"])

	_, err = run(t, "dev", devConfig(t).with("llmserve:modelStore", m{"bucket": "weights", "domainVerified": true}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `llmserve:modelStore.domainVerified: only for a bucket llmserve creates with dots in its name ("weights" is not one); remove it`)
}

// labelKeyRe and labelValueRe: GCP label keys are 1-63 characters starting with a lowercase
// letter, values 0-63; both hold only lowercase letters, digits, '_' and '-'
// (https://cloud.google.com/resource-manager/docs/labels-overview#requirements).
var (
	labelKeyRe   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRe = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// TestBucketLabelsFollowGCPRules: the bucket's labels carry the stack name, which Pulumi
// allows up to 100 characters; a label value holds 63.
func TestBucketLabelsFollowGCPRules(t *testing.T) {
	stack := "dev-" + strings.Repeat("x", 80)
	cfg := devConfig(t).with("llmserve:modelStore", m{"bucket": "my-weights"})
	rec := mustRun(t, stack, cfg)
	labels := in(rec.one(t, tBucket))["labels"].(map[string]any)
	require.NotEmpty(t, labels)
	for k, v := range labels {
		assert.Regexp(t, labelKeyRe, k, "label key")
		assert.Regexp(t, labelValueRe, v, "label %s", k)
	}
	assert.True(t, strings.HasPrefix(labels["stack"].(string), "dev-xxx"), "the label still names the stack")
}
