package components

import (
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GCS FUSE CSI driver names (GoogleCloudPlatform/gcs-fuse-csi-driver docs/usage.md).
const (
	GCSFuseDriver = "gcsfuse.csi.storage.gke.io"
	// GCSFuseCacheVolume is the name the driver's sidecar looks for: a pod volume with this
	// name becomes the file cache instead of the sidecar's own small emptyDir.
	GCSFuseCacheVolume = "gke-gcsfuse-cache"
	// ModelVolume is the bucket volume in the server pod.
	ModelVolume = "model-store"
)

// GCSFuseArgs configures the bucket volume of the server pod.
type GCSFuseArgs struct {
	Bucket       pulumi.StringInput
	MountPath    string
	MountOptions []string
	// CacheMedium is "Memory" (RAM) or "Disk" (node disk) for the file cache volume.
	CacheMedium string
	CacheSize   string
	// Sidecar limits; "0" lifts a limit.
	SidecarCPULimit, SidecarMemoryLimit, SidecarStorageLimit string
}

// annotations asks the driver's webhook to inject its sidecar, with limits.
func (g GCSFuseArgs) annotations() map[string]string {
	return map[string]string{
		"gke-gcsfuse/volumes":                 "true",
		"gke-gcsfuse/cpu-limit":               g.SidecarCPULimit,
		"gke-gcsfuse/memory-limit":            g.SidecarMemoryLimit,
		"gke-gcsfuse/ephemeral-storage-limit": g.SidecarStorageLimit,
	}
}

// volumes returns the bucket volume and its file cache volume.
func (g GCSFuseArgs) volumes() corev1.VolumeArray {
	return corev1.VolumeArray{
		corev1.VolumeArgs{
			Name: pulumi.String(ModelVolume),
			Csi: &corev1.CSIVolumeSourceArgs{
				Driver: pulumi.String(GCSFuseDriver),
				VolumeAttributes: pulumi.StringMap{
					"bucketName": g.Bucket,
					// One comma-separated string for ephemeral volumes.
					"mountOptions": pulumi.String(strings.Join(g.MountOptions, ",")),
				},
			},
		},
		corev1.VolumeArgs{Name: pulumi.String(GCSFuseCacheVolume), EmptyDir: emptyDir(g.CacheMedium, g.CacheSize)},
	}
}

// emptyDir maps llmserve's medium names to the Kubernetes ones ("Disk" is the default "").
func emptyDir(medium, size string) *corev1.EmptyDirVolumeSourceArgs {
	e := &corev1.EmptyDirVolumeSourceArgs{}
	if medium == "Memory" {
		e.Medium = pulumi.String("Memory")
	}
	if size != "" {
		e.SizeLimit = pulumi.String(size)
	}
	return e
}
