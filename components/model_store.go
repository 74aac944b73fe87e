package components

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v9/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RoleObjectUser lets the server read weights and write the download and XLA caches, and
// nothing else (seed 003 grants it on the bucket to the server's Kubernetes service account).
const RoleObjectUser = "roles/storage.objectUser"

// ModelStoreArgs configures a ModelStore.
type ModelStoreArgs struct {
	Project       string
	ProjectNumber pulumi.StringInput
	Bucket        string
	Location      string
	StorageClass  string
	ForceDestroy  bool
	// Namespace and ServiceAccount name the Kubernetes service account that is granted
	// access through Workload Identity.
	Namespace      string
	ServiceAccount string
	Labels         map[string]string
}

func (a *ModelStoreArgs) validate() error {
	if a == nil {
		return errors.New("args are required")
	}
	if a.Project == "" || a.ProjectNumber == nil || a.Bucket == "" || a.Location == "" {
		return errors.New("Project, ProjectNumber, Bucket and Location are required")
	}
	if a.Namespace == "" || a.ServiceAccount == "" {
		return errors.New("Namespace and ServiceAccount are required")
	}
	return nil
}

// ModelStore is the GCS bucket that caches model weights and compiled XLA programs, and the
// bucket-scoped, non-authoritative grant that lets the server's Kubernetes service account
// use it through Workload Identity.
type ModelStore struct {
	pulumi.ResourceState
	Bucket     *storage.Bucket
	Access     *storage.BucketIAMMember
	BucketName pulumi.StringOutput
	Principal  pulumi.StringOutput
}

// NewModelStore creates the bucket and the grant.
func NewModelStore(ctx *pulumi.Context, name string, args *ModelStoreArgs, opts ...pulumi.ResourceOption) (*ModelStore, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("model store %q: %w", name, err)
	}
	s := &ModelStore{}
	if err := ctx.RegisterComponentResource(TypeModelStore, name, s, opts...); err != nil {
		return nil, err
	}
	b, err := storage.NewBucket(ctx, name+"-bucket", &storage.BucketArgs{
		Name:         pulumi.String(args.Bucket),
		Project:      pulumi.String(args.Project),
		Location:     pulumi.String(args.Location),
		StorageClass: pulumi.String(args.StorageClass),
		// IAM only, no object ACLs: the grant below is the whole access story.
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		// Off by default: destroying a stack must not silently delete 100+ GB of weights.
		ForceDestroy: pulumi.Bool(args.ForceDestroy),
		Labels:       pulumi.ToStringMap(args.Labels),
	}, pulumi.Parent(s))
	if err != nil {
		return nil, fmt.Errorf("model store %q: bucket: %w", name, err)
	}
	s.Bucket, s.BucketName = b, b.Name
	s.Principal = WorkloadIdentityPrincipal(args.ProjectNumber, pulumi.String(args.Project), args.Namespace, args.ServiceAccount)
	m, err := storage.NewBucketIAMMember(ctx, name+"-object-user", &storage.BucketIAMMemberArgs{
		Bucket: b.Name,
		Role:   pulumi.String(RoleObjectUser),
		Member: s.Principal,
	}, pulumi.Parent(s))
	if err != nil {
		return nil, fmt.Errorf("model store %q: iam member: %w", name, err)
	}
	s.Access = m
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{"bucket": b.Name, "principal": s.Principal})
}
