package components

import (
	"fmt"
	"path"

	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Why: with --download-dir on the bucket, every replica that starts on an empty bucket
// downloads the same weights into the same GCS FUSE path at once (issue 11). Here one Job
// per model seeds the bucket, the servers wait for what it leaves and mount the bucket
// read-only, and nothing else ever writes the weights.

// WeightsPrefix is the bucket directory that holds downloaded models: <prefix>/<model id>.
const WeightsPrefix = "models"

// WeightsCompleteMarker is the file the download Job writes last; servers wait for it.
const WeightsCompleteMarker = ".llmserve-complete"

// WeightsDir is where model's weights live inside the bucket mount.
func WeightsDir(mountPath, model string) string {
	return path.Join(mountPath, WeightsPrefix, model)
}

// WeightsDownloadScript downloads model from Hugging Face into its directory of the bucket
// once: it does nothing when the marker is there, and writes the marker only after every
// file landed, so a Job retried after a failure resumes (snapshot_download skips files it
// already has) and a server never starts on half a model. huggingface_hub is in every vLLM
// image (a vLLM dependency); it reads HF_TOKEN.
func WeightsDownloadScript(mountPath, model string) string {
	return fmt.Sprintf(`set -eu
dst=%q
if [ -f "$dst/%s" ]; then
  echo "weights: $dst already complete"
  exit 0
fi
mkdir -p "$dst"
python3 -c 'import sys
from huggingface_hub import snapshot_download
snapshot_download(repo_id=sys.argv[1], local_dir=sys.argv[2])' %q "$dst"
touch "$dst/%s"
echo "weights: downloaded %s to $dst"
`, WeightsDir(mountPath, model), WeightsCompleteMarker, model, WeightsCompleteMarker, model)
}

// WeightsWaitScript blocks until ready (a path in the bucket mount) exists. The server's
// first init container runs it, reading the bucket read-only.
func WeightsWaitScript(ready string) string {
	return fmt.Sprintf(`set -eu
ready=%q
until [ -e "$ready" ]; do
  echo "weights: waiting for $ready"
  sleep 10
done
echo "weights: $ready is there"
`, ready)
}

// weightsWaitContainer is the init container that gates the server on ready.
func (a *ModelServerArgs) weightsWaitContainer(ready string) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:    pulumi.String("wait-for-weights"),
		Image:   pulumi.String(a.Image),
		Command: pulumi.ToStringArray([]string{"sh", "-c", WeightsWaitScript(ready)}),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(ModelVolume), MountPath: pulumi.String(a.GCSFuse.MountPath), ReadOnly: pulumi.Bool(true),
		}},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("10m"), "memory": pulumi.String("64Mi")},
		},
		SecurityContext: containerSecurity(rootImage),
	}
}

// weightsJob creates the Job that seeds the bucket with container c. It runs on any node
// but the accelerator ones (it tolerates no accelerator taint) as the server's service
// account, whose Workload Identity grant writes the bucket. Pulumi waits for it to
// complete; the servers do not depend on it in Pulumi, they wait for its output.
func (s *ModelServer) weightsJob(ctx *pulumi.Context, name string, args *ModelServerArgs, c corev1.ContainerArgs, extraVolumes corev1.VolumeArray, nodeSelector map[string]string, tolerations corev1.TolerationArray) (*batchv1.Job, error) {
	k := args.Kube
	g := args.GCSFuse
	g.CacheMedium = "" // the file cache serves reads; the Job only writes
	labels := map[string]string{LabelName: args.Name, LabelComponent: "weights"}
	spec := &corev1.PodSpecArgs{
		ServiceAccountName: pulumi.String(args.ServiceAccount),
		RestartPolicy:      pulumi.String("Never"),
		SecurityContext:    podSecurity(rootImage),
		Containers:         corev1.ContainerArray{c},
		Volumes:            append(g.volumes(), extraVolumes...),
	}
	if len(nodeSelector) > 0 {
		spec.NodeSelector = pulumi.ToStringMap(nodeSelector)
	}
	if len(tolerations) > 0 {
		spec.Tolerations = tolerations
	}
	job, err := batchv1.NewJob(ctx, name+"-weights", &batchv1.JobArgs{
		Metadata: k.meta(args.Name+"-weights", args.Namespace, labels, nil),
		Spec: &batchv1.JobSpecArgs{
			// One pod at a time; a failed download is retried and resumes.
			Parallelism:  pulumi.Int(1),
			Completions:  pulumi.Int(1),
			BackoffLimit: pulumi.Int(4),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: pulumi.ToStringMap(labels), Annotations: pulumi.ToStringMap(g.annotations())},
				Spec:     spec,
			},
		},
	}, k.opts(s)...)
	if err != nil {
		return nil, fmt.Errorf("weights job: %w", err)
	}
	return job, nil
}

// vllmWeightsJob is the download Job of a vLLM server.
func (s *ModelServer) vllmWeightsJob(ctx *pulumi.Context, name string, args *ModelServerArgs) (*batchv1.Job, error) {
	c := corev1.ContainerArgs{
		Name:    pulumi.String("download"),
		Image:   pulumi.String(args.Image),
		Command: pulumi.ToStringArray([]string{"sh", "-c", WeightsDownloadScript(args.GCSFuse.MountPath, args.Model)}),
		Env:     args.hfTokenEnv(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String(ModelVolume), MountPath: pulumi.String(args.GCSFuse.MountPath),
		}},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{"cpu": pulumi.String("1"), "memory": pulumi.String("2Gi")},
		},
		SecurityContext: containerSecurity(rootImage),
	}
	return s.weightsJob(ctx, name, args, c, nil, nil, nil)
}

// jetstreamCheckpointJob converts the model's Kaggle checkpoint into the MaxText unscanned
// checkpoint the server loads, as GKE's "Serve Gemma using TPUs on GKE with JetStream"
// tutorial (Job data-loader-7b) and ai-on-gke
// tutorials-and-examples/inference-servers/jetstream/maxtext/single-host-inference/
// checkpoint-job.yaml do: the inference-checkpoint image's checkpoint_converter.sh with
// -b=<bucket> -m=<Kaggle handle>, Kaggle credentials from a Secret at /kaggle, on a TPU
// slice (the conversion runs MaxText), writing gs://<bucket>/final/unscanned/... through
// the Workload Identity grant. It exits 0 even when it did nothing, so the servers gate on
// the checkpoint path, not on the Job.
func (s *ModelServer) jetstreamCheckpointJob(ctx *pulumi.Context, name string, args *ModelServerArgs) (*batchv1.Job, error) {
	j := args.JetStream
	units := pulumi.String(fmt.Sprint(args.Pool.PerNode))
	c := corev1.ContainerArgs{
		Name:  pulumi.String("convert"),
		Image: pulumi.String(j.ConverterImage),
		Args: pulumi.StringArray{
			pulumi.Sprintf("-b=%s", args.GCSFuse.Bucket),
			pulumi.String("-m=" + j.CheckpointSource),
		},
		Resources: &corev1.ResourceRequirementsArgs{
			Requests: pulumi.StringMap{args.Pool.Resource: units},
			Limits:   pulumi.StringMap{args.Pool.Resource: units},
		},
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String("kaggle-credentials"), MountPath: pulumi.String("/kaggle/"), ReadOnly: pulumi.Bool(true),
		}},
		SecurityContext: containerSecurity(rootImage),
	}
	kaggle := corev1.VolumeArray{corev1.VolumeArgs{
		Name:   pulumi.String("kaggle-credentials"),
		Secret: &corev1.SecretVolumeSourceArgs{SecretName: pulumi.String(j.KaggleSecret), DefaultMode: pulumi.Int(0o400)},
	}}
	tol := corev1.TolerationArray{corev1.TolerationArgs{
		Key: pulumi.String(args.Pool.Resource), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
	}}
	return s.weightsJob(ctx, name, args, c, kaggle, args.Pool.Selector, tol)
}
