package catalog

import (
	"strings"
	"testing"
)

func TestGCPIdentifiers(t *testing.T) {
	for _, z := range []string{"us-central1-b", "us-central1-ai1", "us-central1-ai1a", "us-south1-ai1b", "northamerica-northeast1-a"} {
		if !IsZone(z) {
			t.Errorf("%s: a zone", z)
		}
	}
	for _, z := range []string{"us-central1", "us-central1-", "us-central1-bb", "us-central1-ai", "US-CENTRAL1-B"} {
		if IsZone(z) {
			t.Errorf("%s: not a zone", z)
		}
	}
	if RegionOf("us-central1-ai1") != "us-central1" || RegionOf("europe-west4-a") != "europe-west4" {
		t.Error("RegionOf")
	}
	for _, b := range []string{"my-weights", "a_b", "abc", "weights.example.com", "a-1"} {
		if why := CheckBucketName(b); why != "" {
			t.Errorf("%s: valid, got %s", b, why)
		}
	}
	for _, b := range []string{"ab", "Google", "goog1", "xg00glex", "192.168.5.4", "a..b", "-ab", "ab-", "a b"} {
		if CheckBucketName(b) == "" {
			t.Errorf("%s: invalid, accepted", b)
		}
	}
	min, _ := ParseGKEVersion(MinGKEVersionTPUv6e)
	for v, below := range map[string]bool{
		"1.30": true, "1.31": false, "1.31.1": true, "1.31.2": false, "1.31.2-gke.1115000": false,
		"1.31.2-gke.1114999": true, "1.32.0-gke.1": false, "latest": false, "-": false, "1.9": true,
	} {
		got, ok := ParseGKEVersion(v)
		if !ok || got.Below(min) != below {
			t.Errorf("%s below %s: want %v", v, MinGKEVersionTPUv6e, below)
		}
	}
	for _, v := range []string{"v1.31", "1.31.2-gke", "2.0", "1.x", ""} {
		if _, ok := ParseGKEVersion(v); ok {
			t.Errorf("%s: not a GKE version", v)
		}
	}
	if CheckProjectID("my-project") != "" || CheckProjectID("googleproj") == "" {
		t.Error("CheckProjectID")
	}
	for _, z := range TPUv6eZones {
		if !IsZone(z) {
			t.Errorf("TPUv6eZones: %s is not a zone", z)
		}
	}
}

func TestTPUv6eTableCoversOnlyWhatItRead(t *testing.T) {
	for _, r := range []string{"us-central1", "us-east5", "europe-west4", "northamerica-northeast1"} {
		if !TPUv6eTableCovers(r) {
			t.Errorf("%s: the table lists this continent's v6e zones", r)
		}
	}
	for _, r := range []string{"asia-northeast1", "southamerica-east1", "australia-southeast1"} {
		if TPUv6eTableCovers(r) {
			t.Errorf("%s: the table was not read for this continent; a missing zone must not be refused", r)
		}
	}
	for _, z := range TPUv6eZones {
		if !TPUv6eTableCovers(RegionOf(z)) {
			t.Errorf("%s: a listed zone outside the continents the table covers", z)
		}
	}
}

func TestGCPNameRules(t *testing.T) {
	for _, n := range []string{"a", "llm-dev", "a1", strings.Repeat("a", 40)} {
		if !IsClusterName(n) {
			t.Errorf("%q: a valid cluster name", n)
		}
	}
	for _, n := range []string{"", "1a", "a-", "LLM", "a_b", strings.Repeat("a", 41)} {
		if IsClusterName(n) {
			t.Errorf("%q: not a valid cluster name", n)
		}
	}
	for in, want := range map[string]string{"dev": "dev", "Dev.Stack": "dev-stack", strings.Repeat("x", 70): strings.Repeat("x", 63), "a_b": "a_b"} {
		if got := LabelValue(in); got != want || !IsLabelValue(got) {
			t.Errorf("LabelValue(%q) = %q, want %q", in, got, want)
		}
	}
	if !BucketNeedsDomainVerification("weights.example.com") || BucketNeedsDomainVerification("weights") {
		t.Error("BucketNeedsDomainVerification")
	}
}

// TestParseDiskImage: the two path forms the provider takes, and the Compute Engine name
// rule at its edges (1 and 63 characters, no trailing hyphen, no capitals).
func TestParseDiskImage(t *testing.T) {
	ok := map[string][2]string{
		"global/images/vllm-cache":                      {"", "vllm-cache"},
		"projects/my-project/global/images/v":           {"my-project", "v"},
		"global/images/" + strings.Repeat("a", 63):      {"", strings.Repeat("a", 63)},
		"projects/my-project/global/images/vllm-tpu-1a": {"my-project", "vllm-tpu-1a"},
	}
	for in, want := range ok {
		project, name, why := ParseDiskImage(in)
		if why != "" || project != want[0] || name != want[1] {
			t.Errorf("ParseDiskImage(%q) = %q, %q, %q; want %q, %q, no problem", in, project, name, why, want[0], want[1])
		}
	}
	for _, in := range []string{
		"", "vllm-cache", "images/vllm-cache", "global/images/", "global/images/Vllm", "global/images/vllm-",
		"global/images/1vllm", "global/images/" + strings.Repeat("a", 64), "global/disks/vllm",
		"projects/my-project/global/images", "projects/x/global/images/vllm", "projects/my-project/zones/us-central1-b/images/vllm",
		"https://www.googleapis.com/compute/v1/projects/my-project/global/images/vllm",
	} {
		if _, _, why := ParseDiskImage(in); why == "" {
			t.Errorf("ParseDiskImage(%q): accepted, want a problem", in)
		}
	}
}
