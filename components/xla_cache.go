package components

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"

	"github.com/llmserve/llmserve/catalog"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const (
	// XLACacheVolume is the pod-local cache volume, mounted at XLACacheDir.
	XLACacheVolume = "xla-cache"
	// XLACacheDir is where the engine compiles to, in every pod.
	XLACacheDir = "/xla-cache"
	// XLACachePrefix is the bucket directory that holds published caches.
	XLACachePrefix = "xla-cache"
)

// Why: seed 003 points VLLM_XLA_CACHE_PATH of every replica at the same bucket directory,
// and a second replica then fails with "RuntimeError: filesystem error: cannot create
// directories" while the first is still writing. Here the writable cache is always pod-local
// (an emptyDir), restore reads the bucket read-only, and publishing writes only
// <prefix>/<key>/<pod name>/, finished by a .complete marker that readers require.

// XLACacheArgs configures the compilation cache of the server pod.
type XLACacheArgs struct {
	Mode      string
	LocalSize string
	// Key identifies compatible caches: a new image, model or shape gets a fresh directory.
	Key string
	// PublishDelaySeconds lets warm-up compilations land after the server is ready.
	PublishDelaySeconds int
}

// XLACacheKey derives the cache key from everything that changes the compiled programs.
func XLACacheKey(objectName string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return objectName + "/" + hex.EncodeToString(h[:])[:12]
}

// sharedDir is where published caches for this key live, inside the bucket mount.
func (x XLACacheArgs) sharedDir(mountPath string) string {
	return path.Join(mountPath, XLACachePrefix, x.Key)
}

// env points the engine at the pod-local cache. vLLM reads VLLM_XLA_CACHE_PATH, and its
// JAX backend JAX_COMPILATION_CACHE_DIR. MaxText ignores the variable: it sets the cache
// itself from its jax_cache_dir key (default ~/jax_cache; MaxText/configs/base.yml @
// 000e93554, maxengine_server.py calls cc.set_cache_dir with it), so JetStream gets the
// jax_cache_dir= argument instead (JetStream args below).
func (x XLACacheArgs) env(engine string) corev1.EnvVarArray {
	if x.Mode == catalog.XLACacheOff || engine != catalog.EngineVLLM {
		return nil
	}
	return corev1.EnvVarArray{
		corev1.EnvVarArgs{Name: pulumi.String("JAX_COMPILATION_CACHE_DIR"), Value: pulumi.String(XLACacheDir)},
		corev1.EnvVarArgs{Name: pulumi.String("VLLM_XLA_CACHE_PATH"), Value: pulumi.String(XLACacheDir)},
	}
}

func (x XLACacheArgs) volumes() corev1.VolumeArray {
	if x.Mode == catalog.XLACacheOff {
		return nil
	}
	return corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String(XLACacheVolume), EmptyDir: emptyDir("Disk", x.LocalSize)}}
}

func (x XLACacheArgs) mount() corev1.VolumeMountArray {
	if x.Mode == catalog.XLACacheOff {
		return nil
	}
	return corev1.VolumeMountArray{corev1.VolumeMountArgs{Name: pulumi.String(XLACacheVolume), MountPath: pulumi.String(XLACacheDir)}}
}

// RestoreScript copies the first complete published cache into the pod-local directory
// $XLA_CACHE_DIR.
func (x XLACacheArgs) RestoreScript(mountPath string) string {
	return fmt.Sprintf(`set -eu
src=%q
for d in $(ls -1d "$src"/*/ 2>/dev/null | sort); do
  if [ -f "$d.complete" ]; then
    cp -R "$d." "$XLA_CACHE_DIR/" && rm -f "$XLA_CACHE_DIR/.complete"
    echo "xla cache: restored from $d"
    exit 0
  fi
done
echo "xla cache: nothing published under $src yet; this pod compiles"
`, x.sharedDir(mountPath))
}

// PublishScript waits for the server to be healthy, then publishes this pod's cache under
// its own name ($POD_NAME) unless a complete cache is already there. It never writes another pod's
// directory, and readers ignore a directory until its .complete marker exists.
func (x XLACacheArgs) PublishScript(mountPath, healthURL string) string {
	return fmt.Sprintf(`set -eu
dst=%q
until python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' %q 2>/dev/null; do sleep 10; done
sleep %d
if ls "$dst"/*/.complete >/dev/null 2>&1; then
  echo "xla cache: already published under $dst"
else
  mkdir -p "$dst/$POD_NAME"
  cp -R "$XLA_CACHE_DIR/." "$dst/$POD_NAME/"
  touch "$dst/$POD_NAME/.complete"
  echo "xla cache: published to $dst/$POD_NAME"
fi
exec sleep infinity
`, x.sharedDir(mountPath), healthURL, x.PublishDelaySeconds)
}

// initContainers returns the restore step and the publishing native sidecar (an init
// container with restartPolicy Always, Kubernetes 1.29+), both on the server image.
func (x XLACacheArgs) initContainers(image, mountPath, healthURL string) corev1.ContainerArray {
	if x.Mode != catalog.XLACacheShared {
		return nil
	}
	bucketRO := corev1.VolumeMountArgs{Name: pulumi.String(ModelVolume), MountPath: pulumi.String(mountPath), ReadOnly: pulumi.Bool(true)}
	bucketRW := corev1.VolumeMountArgs{Name: pulumi.String(ModelVolume), MountPath: pulumi.String(mountPath)}
	local := corev1.VolumeMountArgs{Name: pulumi.String(XLACacheVolume), MountPath: pulumi.String(XLACacheDir)}
	cacheDir := corev1.EnvVarArgs{Name: pulumi.String("XLA_CACHE_DIR"), Value: pulumi.String(XLACacheDir)}
	small := &corev1.ResourceRequirementsArgs{
		Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("64Mi")},
	}
	return corev1.ContainerArray{
		corev1.ContainerArgs{
			Name:            pulumi.String("xla-cache-restore"),
			Image:           pulumi.String(image),
			Command:         pulumi.ToStringArray([]string{"sh", "-c", x.RestoreScript(mountPath)}),
			Env:             corev1.EnvVarArray{cacheDir},
			VolumeMounts:    corev1.VolumeMountArray{bucketRO, local},
			Resources:       small,
			SecurityContext: containerSecurity(rootImage), // the server's image and user
		},
		corev1.ContainerArgs{
			Name:          pulumi.String("xla-cache-publish"),
			Image:         pulumi.String(image),
			RestartPolicy: pulumi.String("Always"),
			Command:       pulumi.ToStringArray([]string{"sh", "-c", x.PublishScript(mountPath, healthURL)}),
			Env: corev1.EnvVarArray{cacheDir, corev1.EnvVarArgs{
				Name:      pulumi.String("POD_NAME"),
				ValueFrom: &corev1.EnvVarSourceArgs{FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.name")}},
			}},
			VolumeMounts:    corev1.VolumeMountArray{bucketRW, local},
			Resources:       small,
			SecurityContext: containerSecurity(rootImage),
		},
	}
}
