// Package lab is the local autoscaling lab: the whole llmserve scaling chain with the real
// HPA controller on a simulated TPU v6e cluster, on one machine, offline.
//
// A kwokctl cluster runs etcd, kube-apiserver, kube-controller-manager (HPA sync every 15s,
// as on GKE), kube-scheduler and kwok from the pinned binaries `make tools` builds, all on
// 127.0.0.1 (cluster.go). Fake nodes mirror the configured TPU pool (nodes.go). The dev
// stack is deployed onto it through the embedding API, deploy.Open, in existing mode with no
// GCP resource (start.go). A small server model (sim.go) turns a load scenario (scenario.go)
// into queue and batch sizes per ready replica, and a custom + external metrics API server
// (adapter.go) serves them under exactly the names the generated HPA asks for, after a
// Managed-Prometheus-like ingestion delay. The run is shown live (view.go) and written as a
// CSV timeline and a PNG plot (report.go).
package lab
