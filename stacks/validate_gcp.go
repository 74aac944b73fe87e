package stacks

import (
	"fmt"
	"strings"

	"github.com/llmserve/llmserve/catalog"
)

// clusterRegion is the region of the control plane: cluster.location, or its region when it
// is a zone.
func (c *Config) clusterRegion() string {
	if r := catalog.RegionOf(c.Cluster.Location); r != "" {
		return r
	}
	return c.Cluster.Location
}

// createsGKE says whether llmserve creates the cluster (and so reads its location settings).
func (c *Config) createsGKE() bool {
	return c.Cluster.Mode == catalog.ModeStandard || c.Cluster.Mode == catalog.ModeAutopilot
}

// validateLocations checks regions, zones, TPU availability and the GKE version.
func (c *Config) validateLocations(p *problems) {
	if c.Region != "" && !catalog.IsRegion(c.Region) {
		if r := catalog.RegionOf(c.Region); r != "" {
			p.addf("gcp:region %q: is a zone; gcp:region is a region such as %s (put zones in llmserve:cluster.zones)", c.Region, r)
		} else {
			p.addf("gcp:region %q: not a GCP region such as us-central1 or europe-west4", c.Region)
		}
	}
	if !c.createsGKE() {
		return
	}
	cl := c.Cluster
	if cl.Location != "" && !catalog.IsRegion(cl.Location) && !catalog.IsZone(cl.Location) {
		p.addf("llmserve:cluster.location %q: want a region (us-central1) for a regional cluster or a zone (us-central1-b) for a zonal one", cl.Location)
		return
	}
	region := c.clusterRegion()
	seen := map[string]bool{}
	zonesOK := true
	for i, z := range cl.Zones {
		switch {
		case !catalog.IsZone(z):
			p.addf("llmserve:cluster.zones[%d] %q: not a zone such as %s-b (or an AI zone such as us-central1-ai1)", i, z, region)
			zonesOK = false
		case catalog.RegionOf(z) != region:
			p.addf("llmserve:cluster.zones[%d] %q: not a zone of %s; use %s-<letter>", i, z, region, region)
			zonesOK = false
		case seen[z]:
			p.addf("llmserve:cluster.zones[%d] %q: listed twice; list each zone once", i, z)
		}
		seen[z] = true
	}
	// gcloud container clusters create --node-locations: "for zonal clusters,
	// --node-locations must contain the cluster's primary zone".
	if zonesOK && len(cl.Zones) > 0 && catalog.IsZone(cl.Location) && !seen[cl.Location] {
		p.addf("llmserve:cluster.zones %v: a zonal cluster's node zones must include its own zone %s; add it or make cluster.location the region %s", cl.Zones, cl.Location, region)
	}
	if catalog.IsTPU(c.Profile.Accelerator.Type) && zonesOK {
		c.validateTPUZones(p, region)
	}
	c.validateGKEVersion(p)
}

// validateTPUZones checks that the pool's zones offer TPU v6e.
func (c *Config) validateTPUZones(p *problems, region string) {
	if !catalog.TPUv6eTableCovers(region) {
		return // the table cannot tell: accept rather than refuse a zone it never read
	}
	cl := c.Cluster
	known := catalog.TPUv6eZonesIn(region)
	where := strings.Join(known, ", ")
	if where == "" {
		where = "none known"
	}
	zones := cl.Zones
	key := "llmserve:cluster.zones"
	if len(zones) == 0 && catalog.IsZone(cl.Location) {
		zones, key = []string{cl.Location}, "llmserve:cluster.location"
	}
	if len(zones) == 0 {
		if len(known) == 0 {
			p.addf("llmserve:cluster.location %q: no zone of %s is known to offer TPU v6e (v6e zones: %s; %s); pick a region with v6e, such as us-central1 or us-east5", cl.Location, region, strings.Join(catalog.TPUv6eZones, ", "), catalog.TPUv6eZonesSource)
		} else if cl.Mode == catalog.ModeStandard && *c.Pool.Create {
			// A regional pool without node locations takes the region's default zones,
			// which need not have v6e: the pool then fails to create.
			p.addf("llmserve:cluster.zones: required for a TPU v6e pool in region %s, whose default zones need not offer v6e; set zones to v6e zones of the region: %s", region, where)
		}
		return
	}
	for i, z := range zones {
		if !catalog.HasTPUv6e(z) {
			k := fmt.Sprintf("%s[%d]", key, i)
			if key == "llmserve:cluster.location" {
				k = key
			}
			p.addf("%s %q: TPU v6e is not known to be offered in this zone (v6e zones of %s: %s; %s); use one of them", k, z, region, where, catalog.TPUv6eZonesSource)
		}
	}
}

func (c *Config) validateGKEVersion(p *problems) {
	v := c.Cluster.Version
	if v == "" {
		return
	}
	ver, ok := catalog.ParseGKEVersion(v)
	if !ok {
		p.addf("llmserve:cluster.version %q: not a GKE version; want 1.X, 1.X.Y, 1.X.Y-gke.N (such as %s) or latest", v, catalog.MinGKEVersionTPUv6e)
		return
	}
	if !catalog.IsTPU(c.Profile.Accelerator.Type) {
		return
	}
	min, why := catalog.MinGKEVersionTPUv6e, "TPU v6e needs GKE"
	if c.Cluster.Mode == catalog.ModeAutopilot {
		min, why = catalog.MinGKEVersionTPUv6eAutopilot, "Autopilot provisions TPU v6e with node auto-creation, which needs GKE"
	}
	m, _ := catalog.ParseGKEVersion(min)
	if ver.Below(m) {
		p.addf("llmserve:cluster.version %q: %s %s or later; use %s or a later version, or leave it to the release channel", v, why, min, min)
	}
}

// validateModeOnly refuses settings the chosen cluster mode ignores: a setting that does
// nothing is a setting the user believes in.
func (c *Config) validateModeOnly(p *problems) {
	u := c.user.Cluster
	switch c.Cluster.Mode {
	case catalog.ModeExisting:
		for _, f := range []struct {
			key string
			set bool
		}{
			{"location", u.Location != ""}, {"zones", len(u.Zones) > 0}, {"releaseChannel", u.ReleaseChannel != ""},
			{"version", u.Version != ""}, {"deletionProtection", u.DeletionProtection != nil},
			{"network", u.Network != ""}, {"subnetwork", u.Subnetwork != ""},
			{"systemPool", u.SystemPool.MachineType != "" || u.SystemPool.MinNodes != nil || u.SystemPool.MaxNodes != nil},
		} {
			if f.set {
				p.addf("llmserve:cluster.%s: ignored in mode existing, where llmserve creates no cluster; remove it", f.key)
			}
		}
	case catalog.ModeStandard, catalog.ModeAutopilot:
		if c.Cluster.Kubeconfig != "" {
			p.addf("llmserve:kubeconfig: only for cluster.mode existing; mode %s connects to the cluster it creates; remove it", c.Cluster.Mode)
		}
		if u.Context != "" {
			p.addf("llmserve:cluster.context %q: only for cluster.mode existing; mode %s connects to the cluster it creates; remove it", u.Context, c.Cluster.Mode)
		}
		if c.Cluster.Mode == catalog.ModeAutopilot && (u.SystemPool.MachineType != "" || u.SystemPool.MinNodes != nil || u.SystemPool.MaxNodes != nil) {
			p.addf("llmserve:cluster.systemPool: ignored in mode autopilot, which manages its own nodes; remove it")
		}
	}
	if !*c.Pool.Create {
		up := c.user.Pool
		for _, f := range []struct {
			key string
			set bool
		}{
			{"spot", up.Spot}, {"reservation", up.Reservation != ""}, {"locationPolicy", up.LocationPolicy != ""},
			{"diskSizeGb", up.DiskSizeGB != nil}, {"driverVersion", up.DriverVersion != ""},
			{"imageCacheDisk", up.ImageCacheDisk != ""},
		} {
			if f.set {
				p.addf("llmserve:pool.%s: ignored: llmserve creates no node pool here (pool.create is false in mode %s); remove it", f.key, c.Cluster.Mode)
			}
		}
	}
	if c.Serving.AllowPublic && c.Serving.Exposure != catalog.ExposurePublic {
		p.addf("llmserve:serving.allowPublic: only means something with serving.exposure public (exposure is %s); remove it", c.Serving.Exposure)
	}
}

// validateBounds refuses sizes beyond GKE's limits (catalog.MaxNodesPerCluster,
// MaxNodesPerNodePoolZone): such a config cannot be what was meant, and a typo of one digit
// can cost a fortune if quota allows it.
func (c *Config) validateBounds(p *problems) {
	a := c.Profile.Autoscaling
	if a.MaxReplicas > catalog.MaxNodesPerCluster {
		p.addf("autoscaling.maxReplicas %d: every replica takes a node and a GKE cluster holds at most %d nodes; lower it", a.MaxReplicas, catalog.MaxNodesPerCluster)
	}
	zones := len(c.Cluster.Zones)
	if zones == 0 {
		zones = 1
		if catalog.IsRegion(c.Cluster.Location) {
			zones = 3 // a regional pool's default node locations: three zones of the region
		}
	}
	if limit := min(zones*catalog.MaxNodesPerNodePoolZone, catalog.MaxNodesPerCluster); *c.Pool.Create && *c.Pool.MaxNodes > limit {
		p.addf("llmserve:pool.maxNodes %d: a GKE node pool holds at most %d nodes per zone (%d here over %d zone(s)); lower it", *c.Pool.MaxNodes, catalog.MaxNodesPerNodePoolZone, limit, zones)
	}
	if sp := c.Cluster.SystemPool; c.Cluster.Mode == catalog.ModeStandard && *sp.MaxNodes > catalog.MaxNodesPerNodePoolZone {
		p.addf("llmserve:cluster.systemPool.maxNodes %d: the system pool runs a few small pods; a node pool holds at most %d nodes per zone; lower it", *sp.MaxNodes, catalog.MaxNodesPerNodePoolZone)
	}
	if d := c.Pool.DiskSizeGB; d != nil && *d > catalog.MaxBootDiskGB {
		p.addf("llmserve:pool.diskSizeGb %d: a persistent disk holds at most %d GB; weights live in the bucket, not on the boot disk; lower it", *d, catalog.MaxBootDiskGB)
	}
}
