package components

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// WorkloadIdentityPrincipal is the IAM principal of a Kubernetes service account under
// Workload Identity Federation for GKE, granted roles directly with no Google service
// account in between (seed 003: principal://iam.googleapis.com/projects/PROJECT_NUMBER/
// locations/global/workloadIdentityPools/PROJECT_ID.svc.id.goog/subject/ns/NS/sa/KSA).
func WorkloadIdentityPrincipal(projectNumber, projectID pulumi.StringInput, namespace, ksa string) pulumi.StringOutput {
	return pulumi.Sprintf("principal://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s.svc.id.goog/subject/ns/%s/sa/%s",
		projectNumber, projectID, namespace, ksa)
}
